"""Plan a county (or a province) village by village and stream the generated villages.

Sizes: a county listed in ``data/county_totals.json`` (龙安区: 4,226 户 / 10,588 人, seed 000) gets its
registered households spread over its rural villages (村委会, code digit 10 = 2) with village weights
drawn from the seed; other counties and provinces are sized from a person target. A small share of
一般农户 (边缘易致贫户 and 突发严重困难户 that were never 建档立卡) is added on top.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

from fangpin.regions.loader import DATA_DIR as REGIONS_DIR
from fangpin.regions.loader import shipped_rows

from .defects import plant_post_id
from .ids import IdAllocator
from .params import GenParams
from .village import VillageData, VillageSpec, generate_villages, village_rng

# households generated together (one vectorised pass): bounds the memory of a batch, whatever the
# village sizes, and amortises the per-call cost of numpy over many small villages
BATCH_HOUSEHOLDS = 2_000
TOTALS_FILE = Path(__file__).resolve().parent.parent / "data" / "county_totals.json"


def county_totals() -> dict:
    return json.loads(TOTALS_FILE.read_text(encoding="utf-8"))


def rural_villages_from_csv(prefix: str) -> list[tuple[str, str, str]]:
    """(village code, village name, county name) of every 村委会 under ``prefix``, from the shipped
    NBS files (no database needed: the province path runs without one)."""
    with open(REGIONS_DIR / "areas.csv", encoding="utf-8", newline="") as f:
        counties = {r["code"]: r["name"] for r in csv.DictReader(f)}
    out = [
        (code, name, counties.get(code[:6], ""))
        for code, name in shipped_rows("villages", prefix)
        if code[9] == "2"
    ]
    return sorted(out)


def rural_villages_from_db(prefix: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    from fangpin.regions.models import Level, Region

    county_names = dict(Region.objects.filter(level=Level.COUNTY).values_list("prefix", "name"))
    return [
        (v.code, v.name, county_names.get(v.code[:6], ""), tuple(v.groups or ()))
        for v in Region.objects.filter(
            level=Level.VILLAGE, code__startswith=prefix, is_residents_committee=False
        ).order_by("code")
    ]


def _spread(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of ``total`` by ``weights`` (sums exactly to total)."""
    s = sum(weights) or 1.0
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out


def plan(
    villages: Iterable[tuple],
    *,
    seed: int,
    exited_households: int,
    ordinary_households: int,
) -> list[VillageSpec]:
    """Spread the households over the villages. Weights come from each village's own RNG, so a
    village's size does not depend on the other villages' draws."""
    vs = list(villages)
    weights = [math.exp(village_rng(seed, v[0], "size").gauss(0, 0.55)) for v in vs]
    ex = _spread(exited_households, weights)
    od = _spread(ordinary_households, weights)
    return [
        VillageSpec(
            code=v[0],
            name=v[1],
            county_name=v[2],
            exited_households=e,
            ordinary_households=o,
            groups=tuple(v[3]) if len(v) > 3 else (),
        )
        for v, e, o in zip(vs, ex, od, strict=True)
        if e + o > 0
    ]


def county_plan(
    county: str, *, seed: int, scale: float = 1.0, villages: list[tuple] | None = None
) -> list[VillageSpec]:
    """The plan of one county at ``scale`` (1.0 = its real registered size)."""
    totals = county_totals()
    known = totals["counties"].get(county)
    villages = villages if villages is not None else rural_villages_from_db(county)
    if known:
        exited = round(known["exited_households"] * scale)
        # 边缘易致贫户 never registered: the 一般农户 share of the 两类人群
        edge = known.get("edge_households")
        ordinary = round(edge * scale * 0.35) if edge is not None else round(exited * 0.015)
    else:
        exited = round(len(villages) * 24 * scale)
        ordinary = round(exited * 0.015)
    return plan(villages, seed=seed, exited_households=exited, ordinary_households=ordinary)


def province_plan(prefix: str, *, seed: int, persons: int) -> list[VillageSpec]:
    per_hh = county_totals()["default_persons_per_household"]
    households = round(persons / per_hh)
    ordinary = round(households * 0.015)
    return plan(
        rural_villages_from_csv(prefix),
        seed=seed,
        exited_households=households - ordinary,
        ordinary_households=ordinary,
    )


def iter_villages(
    specs: list[VillageSpec],
    params_for: callable,
    *,
    seed: int,
    defect_rate: float = 0.015,
    monitor_rate: float = 0.03,
    min_defects_each: int = 0,
) -> Iterator[VillageData]:
    """Generate the planned villages in code order, a batch of a county's villages at a time (about
    ``BATCH_HOUSEHOLDS`` households: bounded memory), give ID numbers with one allocator per county and
    plant the ID defects; yields them one by one. ``params_for(county_code)`` → GenParams."""
    alloc: IdAllocator | None = None
    params: GenParams | None = None
    ordered = sorted(specs, key=lambda s: s.code)
    k = 0
    while k < len(ordered):
        county = ordered[k].code[:6]
        if alloc is None or alloc.area != county:
            alloc, params = IdAllocator(county), params_for(county)
        # a batch: villages of the county up to ~BATCH_HOUSEHOLDS households, generated together
        j, size = k, 0
        while j < len(ordered) and ordered[j].code[:6] == county and (j == k or size < BATCH_HOUSEHOLDS):
            size += ordered[j].exited_households + ordered[j].ordinary_households
            j += 1
        batch = generate_villages(
            ordered[k:j], params, seed=seed, defect_rate=defect_rate, min_defects_each=min_defects_each
        )
        for spec, v in zip(ordered[k:j], batch, strict=True):
            alloc.assign(v.persons)
            plant_post_id(
                village_rng(seed, spec.code, "id-defects"),
                v,
                params,
                rate=defect_rate,
                min_each=min_defects_each,
            )
            yield v
        k = j


__all__ = [
    "county_plan",
    "iter_villages",
    "plan",
    "province_plan",
    "rural_villages_from_csv",
    "rural_villages_from_db",
]
