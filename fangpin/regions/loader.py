"""Loads the shipped NBS division slices into the Region table (idempotent)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db import transaction

from .models import Level, Region, code_prefix

DATA_DIR = Path(__file__).resolve().parent / "data"


def _rows(name: str) -> Iterator[dict[str, str]]:
    for path in sorted(DATA_DIR.glob(name)):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            yield from csv.DictReader(io.StringIO(f.read()))


def _pad(code: str) -> str:
    return code.ljust(12, "0")


def load_regions(*, county_prefixes: Iterable[str] | None = None) -> int:
    """Load provinces, cities and counties of the whole country and the townships/villages of the
    shipped provinces. ``county_prefixes`` limits townships/villages (e.g. ["410506"]) for small
    installs and tests. Returns the number of Region rows after loading."""
    wanted = tuple(county_prefixes or ())
    objs: list[Region] = []
    for r in _rows("provinces.csv"):
        objs.append(Region(code=_pad(r["code"]), name=r["name"], level=Level.PROVINCE, parent=None))
    for r in _rows("cities.csv"):
        objs.append(
            Region(code=_pad(r["code"]), name=r["name"], level=Level.CITY, parent_id=_pad(r["provinceCode"]))
        )
    for r in _rows("areas.csv"):
        objs.append(
            Region(code=_pad(r["code"]), name=r["name"], level=Level.COUNTY, parent_id=_pad(r["cityCode"]))
        )
    for r in _rows("streets_*.csv.gz"):
        if wanted and not r["code"].startswith(wanted):
            continue
        objs.append(
            Region(code=_pad(r["code"]), name=r["name"], level=Level.TOWNSHIP, parent_id=_pad(r["areaCode"]))
        )
    for r in _rows("villages_*.csv.gz"):
        if wanted and not r["code"].startswith(wanted):
            continue
        objs.append(
            Region(
                code=r["code"],
                name=r["name"],
                level=Level.VILLAGE,
                parent_id=_pad(r["streetCode"]),
                is_residents_committee=r["code"][9] in "01",
            )
        )
    # Cities without counties (东莞 4419 …) have a synthetic county row with the same padded code:
    # the first (higher-level) row wins.
    seen = set(Region.objects.values_list("code", flat=True))
    new = []
    for o in objs:
        if o.code in seen:
            continue
        seen.add(o.code)
        o.prefix = code_prefix(o.code)
        new.append(o)
    with transaction.atomic():
        # parents first: objs are ordered province → village
        Region.objects.bulk_create(new, batch_size=5000)
    return Region.objects.count()
