"""Validation of a whole import table before anything is written.

Set-based: each column's converter runs once per *distinct* value (an enumeration column of 100k rows
costs a handful of calls), the per-row values are then dictionary look-ups; cross-row rules (a household
whose rows disagree, duplicate 证件号码) are polars group-bys. The result is either a list of rejects
(row number as the user sees it, column header, value, Chinese reason, code) or the parsed households,
persons, income and monitoring facts that ``io.write`` compares with the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from django.core.exceptions import FieldDoesNotExist

from fangpin.core.errors import RowError
from fangpin.core.ids import validate_id_numbers
from fangpin.registry.models import Household, IncomeRecord, Person

from .columns import (
    BY_KEY,
    DEFAULT,
    HH,
    INCOME,
    INCOME_KEYS,
    LOC,
    MON,
    PERSON,
    REQUIRED,
    RISK_KEYS,
    TRANSFER_ITEM_KEYS,
    CellError,
    Column,
)
from .read import Table
from .villages import VillageIndex

# Error codes of cross-field and cross-row rules.
E_ID = "bad_id"  # + the core.ids code in the message
E_DUP_ID = "duplicate_id"
E_HH_CONFLICT = "household_conflict"
E_GENDER_MISMATCH = "gender_mismatch"
E_BIRTH_MISMATCH = "birth_mismatch"
E_DISABILITY = "bad_disability_cert"
E_RISK = "bad_risk_type"
E_MONITORING = "monitoring_incomplete"
E_TRANSFER_SUM = "transfer_sum"
E_OUT_OF_SCOPE = "out_of_scope"
E_REQUIRED_MSG = "必填项为空"

_MODEL_OF = {HH: Household, PERSON: Person, INCOME: IncomeRecord}
FIELD_OF = {"person_phone": "phone"}  # column key → model field when they differ
_HOUSEHOLD_LEVEL = (HH, LOC, INCOME, MON)


@dataclass
class ParsedHousehold:
    household_no: str
    village_code: str
    first_row: int
    fields: dict[str, Any]
    grade_hint: bool | None = None  # 是否危房户 when the file has no 住房安全等级
    income: dict[str, Decimal] | None = None
    monitoring: dict[str, Any] | None = None


@dataclass
class ParsedPerson:
    row: int
    household_no: str
    id_number: str
    fields: dict[str, Any]


@dataclass
class Parsed:
    households: dict[str, ParsedHousehold] = field(default_factory=dict)
    persons: list[ParsedPerson] = field(default_factory=list)
    rejects: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    household_fields: tuple[str, ...] = ()
    person_fields: tuple[str, ...] = ()
    income_fields: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.rejects


def _blank_value(col: Column) -> Any:
    """What a blank cell means (policy-research §4.2.1: blank = not applicable)."""
    model = _MODEL_OF.get(col.target)
    name = FIELD_OF.get(col.key, col.key)
    if model is None or col.target == INCOME:
        return None  # monitoring, location and income blanks stay "not given"
    try:
        f = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if col.blank == DEFAULT and f.has_default():
        return f.get_default()
    return None if f.null else ("" if f.get_internal_type() == "CharField" else f.get_default())


class _Validator:
    def __init__(self, table: Table, *, village_index: VillageIndex, risk_types: list[str], today: dt.date):
        self.t = table
        self.n = len(table.rows)
        self.rows = table.row_numbers
        self.vindex = village_index
        self.risk_types = risk_types
        self.today = today
        self.rejects: list[RowError] = []
        self.warnings: list[RowError] = []
        self.bad = [False] * self.n
        self.raw: dict[str, list[str]] = {}
        self.val: dict[str, list[Any]] = {}

    def v_at(self, key: str, i: int) -> Any:
        """Converted value of a column at row i (None when the file has no such column)."""
        col = self.val.get(key)
        return None if col is None else col[i]

    def raw_at(self, key: str, i: int) -> str:
        col = self.raw.get(key)
        return "" if col is None else col[i]

    def reject(self, i: int, key: str, value: str, message: str, code: str) -> None:
        self.bad[i] = True
        header = BY_KEY[key].header if key in BY_KEY else key
        self.rejects.append(RowError(self.rows[i], header, message, value, code))

    # ---- per column, per distinct value
    def convert_columns(self) -> None:
        for key in self.t.columns:
            col = BY_KEY[key]
            raws = self.t.column_values(key)
            self.raw[key] = raws
            if col.conv is None:
                continue
            ok: dict[str, Any] = {}
            errs: dict[str, tuple[str, str]] = {}
            blank = _blank_value(col)
            for u in set(raws):
                if u == "":
                    if col.blank == REQUIRED:
                        errs[u] = ("required", E_REQUIRED_MSG)
                    else:
                        ok[u] = blank
                    continue
                try:
                    ok[u] = col.conv(u)
                except CellError as e:
                    errs[u] = (e.code, e.message)
            if errs:
                for i, r in enumerate(raws):
                    if r in errs:
                        code, msg = errs[r]
                        self.reject(i, key, r, msg, code)
            self.val[key] = list(map(ok.get, raws))  # C-level look-up per cell (ok.get(r) → None for rejects)

    # ---- identity
    def check_ids(self) -> list[str]:
        raws = self.raw["id_number"]
        checks = validate_id_numbers(set(raws), today=self.today)  # column-wise, per distinct value
        norm = [""] * self.n
        for i, r in enumerate(raws):
            c = checks[r]
            if not c.ok:
                code, msg = c.errors[0]
                self.reject(i, "id_number", r, msg if r else E_REQUIRED_MSG, "required" if not r else code)
                continue
            norm[i] = c.normalized
        self.id_checks = checks
        return norm

    def check_person_facts(self, norm: list[str]) -> None:
        gender = self.val.get("gender")
        birth = self.val.get("birth_date")
        for i in range(self.n):
            if not norm[i]:
                continue
            c = self.id_checks[self.raw["id_number"][i]]
            if gender is not None and gender[i] and gender[i] != c.gender:
                self.reject(i, "gender", self.raw["gender"][i], "性别与证件号码不一致", E_GENDER_MISMATCH)
            if birth is not None and birth[i] and birth[i] != c.birth_date:
                self.reject(
                    i,
                    "birth_date",
                    self.raw["birth_date"][i],
                    f"出生日期与证件号码不一致（证件号码为{c.birth_date:%Y%m%d}）",
                    E_BIRTH_MISMATCH,
                )
            if c.disability_suffix:
                cat, grade = c.disability_suffix[0], c.disability_suffix[1]
                if cat not in "1234567" or grade not in "1234":
                    self.reject(
                        i,
                        "id_number",
                        self.raw["id_number"][i],
                        "残疾人证号码后两位应为残疾类别（1-7）和残疾等级（1-4）",
                        E_DISABILITY,
                    )

    def check_duplicates(self, norm: list[str], hh_nos: list[str]) -> None:
        df = pl.DataFrame({"i": range(self.n), "id": norm, "hh": hh_nos})
        dup = df.filter(pl.col("id") != "").group_by("id").agg(pl.col("i")).filter(pl.col("i").list.len() > 1)
        for idx in dup["i"].to_list():
            rows = [self.rows[j] for j in idx]
            for j in idx:
                others = "、".join(str(r) for r in rows if r != self.rows[j])
                self.reject(
                    j,
                    "id_number",
                    self.raw["id_number"][j],
                    f"证件号码在文件中重复（另见第{others}行）",
                    E_DUP_ID,
                )

    def check_household_consistency(self, hh_nos: list[str]) -> None:
        keys = [k for k in self.t.columns if BY_KEY[k].target in _HOUSEHOLD_LEVEL and k != "household_no"]
        if not keys:
            return
        df = pl.DataFrame({"i": range(self.n), "hh": hh_nos, **{k: self.raw[k] for k in keys}})
        df = df.filter(pl.col("hh") != "")
        agg = df.group_by("hh").agg(pl.col("i"), *[(pl.col(k).n_unique() > 1).alias(k) for k in keys])
        conflict = agg.filter(pl.any_horizontal([pl.col(k) for k in keys]))
        for rec in conflict.iter_rows(named=True):
            bad_cols = [k for k in keys if rec[k]]
            names = "、".join(f"“{BY_KEY[k].header}”" for k in bad_cols)
            for j in rec["i"]:
                self.reject(
                    j,
                    bad_cols[0],
                    self.raw[bad_cols[0]][j],
                    f"同一户（户编号{rec['hh']}）各成员行的{names}不一致，户级信息须在每行相同",
                    E_HH_CONFLICT,
                )

    # ---- household-level facts
    def resolve_villages(self) -> list[str | None]:
        cols = [self.raw.get(k, [""] * self.n) for k in ("county", "township", "village", "village_code")]
        cache: dict[tuple[str, str, str, str], tuple[str | None, str, str]] = {}
        out: list[str | None] = [None] * self.n
        for i in range(self.n):
            key = (cols[0][i], cols[1][i], cols[2][i], cols[3][i])
            if key not in cache:
                cache[key] = self.vindex.resolve(*key)
            code, err, msg = cache[key]
            if code is None:
                col = "village_code" if key[3] else "village"
                self.reject(i, col, key[3] or key[2], msg, err)
            out[i] = code
        return out

    def monitoring_of(self, i: int) -> dict[str, Any] | None:
        v = self.val
        if not any(k in v for k in ("category", *RISK_KEYS)):
            return None
        category = self.v_at("category", i)
        risks = [v[k][i] for k in RISK_KEYS if k in v and v[k][i]]
        if not category and not risks:
            return None
        for k in RISK_KEYS:
            if k in v and v[k][i] and v[k][i] not in self.risk_types:
                self.reject(
                    i,
                    k,
                    self.raw[k][i],
                    f"“{self.raw[k][i]}”不是有效的致贫/返贫风险类型，可选值：{'、'.join(self.risk_types)}",
                    E_RISK,
                )
        identified = self.v_at("identified_on", i)
        eliminated = self.v_at("eliminated", i)
        method = self.v_at("elimination_method", i)
        eliminated_on = self.v_at("eliminated_on", i)
        given = {k: bool(self.raw_at(k, i)) for k in ("identified_on", "eliminated_on")}
        problems = []
        if not category:
            problems.append(("category", "填写了致贫/返贫风险但监测对象类别为空"))
        if category and not given["identified_on"]:
            problems.append(("identified_on", "监测对象须填写识别监测时间（YYYYMM）"))
        if category and not risks:
            problems.append(("risk1", "监测对象须至少填写一项致贫/返贫风险"))
        if eliminated and not given["eliminated_on"]:
            problems.append(("eliminated_on", "风险已消除的须填写消除监测时间（YYYYMM）"))
        if (eliminated or given["eliminated_on"]) and not method and not self.raw_at("elimination_method", i):
            problems.append(("elimination_method", "风险已消除的须填写风险消除方式（帮扶消除/自然消除）"))
        if eliminated_on and identified and eliminated_on < identified:
            problems.append(("eliminated_on", "消除监测时间早于识别监测时间"))
        if eliminated_on and eliminated is False:
            problems.append(("eliminated", "填写了消除监测时间但风险是否已消除为“否”"))
        for key, msg in problems:
            self.reject(i, key, self.raw_at(key, i), msg, E_MONITORING)
        return {
            "category": category or "",
            "risk_types": risks,
            "identified_on": identified,
            "eliminated": bool(eliminated) or bool(eliminated_on),
            "elimination_method": method or "",
            "eliminated_on": eliminated_on,
        }

    def income_of(self, i: int) -> dict[str, Decimal] | None:
        present = [k for k in INCOME_KEYS if k in self.val]
        if not present or all(self.val[k][i] is None for k in present):
            return None
        amounts = {k: (self.val[k][i] if self.val[k][i] is not None else Decimal(0)) for k in present}
        total = amounts.pop("transfer_total", None)
        items = {k: amounts[k] for k in TRANSFER_ITEM_KEYS if k in amounts}
        if any(items.values()):
            if total is not None and total != sum(items.values(), Decimal(0)):
                self.reject(
                    i,
                    "transfer_total",
                    self.raw["transfer_total"][i],
                    f"转移性收入{total}与各分项之和{sum(items.values(), Decimal(0))}不一致",
                    E_TRANSFER_SUM,
                )
        elif total is not None:
            # Only the national total is known: it is kept as 其他转移性收入 (documented loss of detail).
            amounts["transfer_other"] = total
        return amounts


def _model_fields(keys: list[str], target: str) -> tuple[str, ...]:
    model = _MODEL_OF[target]
    names = {f.name for f in model._meta.get_fields()}
    return tuple(FIELD_OF.get(k, k) for k in keys if FIELD_OF.get(k, k) in names)


def validate_table(
    table: Table, *, village_index: VillageIndex, risk_types: list[str], today: dt.date
) -> Parsed:
    """Parse and check every row; see the module docstring."""
    v = _Validator(table, village_index=village_index, risk_types=risk_types, today=today)
    v.convert_columns()
    norm = v.check_ids()
    v.check_person_facts(norm)
    hh_nos = v.raw["household_no"]
    v.check_duplicates(norm, hh_nos)
    v.check_household_consistency(hh_nos)
    villages = v.resolve_villages()

    present = list(table.columns)
    hh_keys = [k for k in present if BY_KEY[k].target == HH and k != "household_no"]
    person_keys = [k for k in present if BY_KEY[k].target == PERSON]
    hh_fields = _model_fields(hh_keys, HH)
    person_fields = _model_fields(person_keys, PERSON)
    has_grade = "house_grade" in v.val
    parsed = Parsed(household_fields=hh_fields, person_fields=person_fields)

    # Row dicts are built column-wise (zip over the converted columns), not key by key per row.
    hh_pairs = [(FIELD_OF.get(k, k), v.val[k]) for k in hh_keys if FIELD_OF.get(k, k) in hh_fields]
    p_pairs = [(FIELD_OF.get(k, k), v.val[k]) for k in person_keys if FIELD_OF.get(k, k) in person_fields]
    hh_names = [n for n, _ in hh_pairs]
    p_names = [n for n, _ in p_pairs]
    hh_rows = zip(*(col for _, col in hh_pairs), strict=True) if hh_pairs else iter(lambda: (), None)
    p_rows = zip(*(col for _, col in p_pairs), strict=True) if p_pairs else iter(lambda: (), None)
    id_raw = v.raw["id_number"]
    for i, hh_vals, p_vals in zip(range(v.n), hh_rows, p_rows, strict=False):  # the () iterators are endless
        hno = hh_nos[i]
        if hno and hno not in parsed.households and villages[i]:
            parsed.households[hno] = ParsedHousehold(
                household_no=hno,
                village_code=villages[i] or "",
                first_row=v.rows[i],
                fields=dict(zip(hh_names, hh_vals, strict=True)),
                grade_hint=None if has_grade else v.v_at("g_housing", i),
                income=v.income_of(i),
                monitoring=v.monitoring_of(i),
            )
        if v.bad[i] or not norm[i]:
            continue
        c = v.id_checks[id_raw[i]]
        pf = dict(zip(p_names, p_vals, strict=True))
        pf["id_number"] = c.normalized
        pf["gender"] = pf.get("gender") or c.gender
        pf["birth_date"] = pf.get("birth_date") or c.birth_date
        pf["is_member"] = True
        if c.disability_suffix:
            pf["id_type"] = "残疾人证"
            pf["disability_cert_no"] = c.normalized + c.disability_suffix
            pf["disability_category"] = c.disability_suffix[0]
            pf["disability_grade"] = int(c.disability_suffix[1])
        for code, msg in c.warnings:
            if code != "id_disability_cert":
                v.warnings.append(RowError(v.rows[i], "证件号码", msg, id_raw[i], code))
        parsed.persons.append(ParsedPerson(v.rows[i], hno, c.normalized, pf))

    keys = set(parsed.person_fields) | {"id_number", "gender", "birth_date", "is_member"}
    if any("disability_cert_no" in p.fields for p in parsed.persons):
        keys |= {"id_type", "disability_cert_no", "disability_category", "disability_grade"}
    parsed.person_fields = tuple(sorted(keys))
    parsed.income_fields = tuple(
        sorted({k for h in parsed.households.values() if h.income for k in h.income if k != "transfer_total"})
    )
    parsed.rejects = sorted(v.rejects, key=lambda e: (e.row, e.column))
    parsed.warnings = v.warnings
    return parsed
