"""Stream generated villages to Parquet (a directory per table, one file per county), in chunks: memory holds one chunk of
rows plus one county's ID counters, whatever the number of persons (a province of 10 million).

Tables: households, persons, incomes, member_changes, monitoring, defects. Money is float64 yuan;
dates are date32; ``risk_types`` is a list of strings; ``excluded`` is JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .income import MONEY_FIELDS
from .village import VillageData

S, D, B, INT, F = pa.string(), pa.date32(), pa.bool_(), pa.int32(), pa.float64()

HOUSEHOLD_SCHEMA = pa.schema(
    [
        ("household_no", S), ("village_id", S), ("group_name", S), ("address", S), ("household_type", S),
        ("phone", S), ("exited_year", INT), ("no_labour_protected", B), ("in_relocation_site", B),
        ("cultivated_land_mu", F), ("irrigated_land_mu", F), ("forest_land_mu", F), ("grain_for_green_mu", F),
        ("orchard_mu", F), ("house_area_m2", F), ("house_grade", S), ("house_appraised_on", D),
        ("has_electricity", B), ("has_sanitary_toilet", B), ("road_hardened", B), ("distance_to_main_road_km", F),
        ("water_piped", B), ("water_litres_per_day", F), ("water_scarce_area", B), ("water_quality_ok", B),
        ("water_fetch_minutes", F), ("water_horizontal_m", F), ("water_vertical_m", F),
        ("water_interruption_days", INT),
    ]
)  # fmt: skip
PERSON_SCHEMA = pa.schema(
    [
        ("person_no", S), ("household_no", S), ("is_member", B), ("name", S), ("id_type", S), ("id_number", S),
        ("disability_cert_no", S), ("gender", S), ("birth_date", D), ("ethnicity", S), ("relation", S),
        ("education", S), ("school_status", S), ("health", S), ("chronic_disease", S),
        ("disability_category", S), ("disability_grade", INT), ("disability_subsidy", B), ("labour_skill", S),
        ("work_status", S), ("work_location", S), ("work_months", INT), ("public_welfare_job", B),
        ("public_welfare_job_months", INT), ("medical_resident", B), ("medical_employee", B),
        ("critical_illness_insurance", B), ("medical_assistance", B), ("pension_resident", B),
        ("pension_employee", B), ("dibao", S), ("tekun", S), ("tekun_amount", F), ("phone", S),
        ("death_date", D), ("entered_on", D), ("left_on", D),
    ]
)  # fmt: skip
INCOME_SCHEMA = pa.schema(
    [("household_no", S), ("period_start", D), ("period_end", D)]
    + [(f, F) for f in MONEY_FIELDS]
    + [("excluded", S), ("note", S)]
)
CHANGE_SCHEMA = pa.schema([("household_no", S), ("person_no", S), ("kind", S), ("date", D), ("note", S)])
MONITORING_SCHEMA = pa.schema(
    [
        ("household_no", S), ("category", S), ("risk_types", pa.list_(S)), ("identified_on", D),
        ("eliminated_on", D), ("elimination_method", S),
    ]
)  # fmt: skip
DEFECT_SCHEMA = pa.schema([("code", S), ("household_no", S), ("person_no", S), ("detail", S)])

TABLES: dict[str, tuple[pa.Schema, str]] = {
    "households": (HOUSEHOLD_SCHEMA, "households"),
    "persons": (PERSON_SCHEMA, "persons"),
    "incomes": (INCOME_SCHEMA, "incomes"),
    "member_changes": (CHANGE_SCHEMA, "changes"),
    "monitoring": (MONITORING_SCHEMA, "monitoring"),
    "defects": (DEFECT_SCHEMA, "defects"),
}


def _keys(rows: list[dict[str, Any]], schema: pa.Schema) -> list[str]:
    """The row keys of the schema's columns (a generator-internal ``_name`` where ``name`` is absent)."""
    first = rows[0]
    return [f.name if f.name in first else "_" + f.name for f in schema]


def _values(rows: list[dict[str, Any]], key: str) -> list[Any]:
    try:
        return list(map(itemgetter(key), rows))  # the rows of a table share their keys: the fast path
    except KeyError:
        return [r.get(key) for r in rows]


def _array(vals: list[Any], f: pa.Field) -> pa.Array:
    if f.name == "excluded":
        vals = [json.dumps(v, ensure_ascii=False) if v else "{}" for v in vals]
    elif f.type == F:
        try:
            if Decimal in set(map(type, vals)):
                # the generator's Decimals are few distinct values (land, areas): each converted once
                memo: dict[Any, float] = {}
                vals = [memo[v] if v in memo else memo.setdefault(v, float(v)) for v in vals]
            # float() of each value in C; a None among them (NaN) takes the slow path
            a = np.array(vals, dtype=np.float64)
        except TypeError:
            a = None
        if a is None or np.isnan(a).any():
            return pa.array([None if v is None else float(v) for v in vals], type=f.type)
        return pa.array(a, type=f.type)
    return pa.array(vals, type=f.type)


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    keys = _keys(rows, schema)
    return pa.Table.from_arrays(
        [_array(_values(rows, k), f) for k, f in zip(keys, schema, strict=True)], schema=schema
    )


@dataclass
class ParquetSink:
    """Buffers the columns of each table (taken from each village's rows as it is added, while they are
    fresh in the cache, so that the rows themselves can be freed) and writes a row group when
    ``chunk_rows`` persons are buffered."""

    out: Path
    chunk_rows: int = 50_000
    part: str = "part-0"
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self._writers = {}
        for name, (schema, _) in TABLES.items():
            (self.out / name).mkdir(parents=True, exist_ok=True)
            self._writers[name] = pq.ParquetWriter(
                self.out / name / f"{self.part}.parquet", schema, compression="zstd"
            )
        self._cols: dict[str, list[list[Any]]] = {name: [[] for _ in s] for name, (s, _) in TABLES.items()}
        self._rows: dict[str, int] = dict.fromkeys(TABLES, 0)

    def add(self, v: VillageData) -> None:
        for name, (schema, attr) in TABLES.items():
            rows = getattr(v, attr)
            if not rows:
                continue
            keys = _keys(rows, schema)
            try:
                # a row's values in one C call, then transposed: each row is read once, while in the cache
                cols = zip(*map(itemgetter(*keys), rows), strict=True)
                for col, vals in zip(self._cols[name], cols, strict=True):
                    col.extend(vals)
            except KeyError:
                for key, col in zip(keys, self._cols[name], strict=True):
                    del col[self._rows[name] :]  # the part of this village's rows taken before the miss
                    col.extend(r.get(key) for r in rows)
            self._rows[name] += len(rows)
        if self._rows["persons"] >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        for name, (schema, _) in TABLES.items():
            n = self._rows[name]
            if n:
                cols = self._cols[name]
                arrays = [_array(c, f) for c, f in zip(cols, schema, strict=True)]
                self._writers[name].write_table(pa.Table.from_arrays(arrays, schema=schema))
                self.counts[name] = self.counts.get(name, 0) + n
                self._cols[name] = [[] for _ in schema]
                self._rows[name] = 0

    def close(self) -> dict[str, int]:
        self.flush()
        for w in self._writers.values():
            w.close()
        return dict(self.counts)


def write_parquet(
    villages: Iterable[VillageData], out: Path, *, chunk_rows: int = 50_000, part: str = "part-0"
) -> dict[str, int]:
    """Writes ``out/<table>/<part>.parquet`` for each table; returns rows written per table."""
    sink = ParquetSink(out, chunk_rows=chunk_rows, part=part)
    try:
        for v in villages:
            sink.add(v)
    finally:
        counts = sink.close()
    return counts
