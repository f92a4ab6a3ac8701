"""Loads the shipped NBS divisions into the Region table (idempotent).

The shipped data (``data/``, see its README) is the whole country: provinces, cities and counties in three
small CSV files, and townships and villages in one gzip file per province (``streets/PP.csv.gz``,
``villages/PP.csv.gz``, columns ``code,name``; the parent is the code's prefix). A load reads the national
tree to county level and only the province files the requested counties live in, so ``setup --county``
stays fast whatever the size of the country.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db import transaction

from .models import Level, Region, code_prefix

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        yield from csv.DictReader(io.StringIO(f.read()))


def _rows(name: str) -> Iterator[dict[str, str]]:
    for path in sorted(DATA_DIR.glob(name)):
        yield from _read_csv(path)


def shipped_provinces() -> list[str]:
    """Two-digit codes of the provinces whose townships and villages are shipped (all 31)."""
    return sorted(p.name[:2] for p in (DATA_DIR / "villages").glob("*.csv.gz"))


def shipped_rows(kind: str, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(code, name) of the shipped townships (``kind="streets"``) or villages (``"villages"``) whose code
    starts with ``prefix`` (at least a province, or "" for the whole country), read only from the province
    files concerned."""
    provinces = [prefix[:2]] if len(prefix) >= 2 else shipped_provinces()
    for province in provinces:
        path = DATA_DIR / kind / f"{province}.csv.gz"
        if not path.exists():
            continue
        for r in _read_csv(path):
            if r["code"].startswith(prefix):
                yield r["code"], r["name"]


def _pad(code: str) -> str:
    return code.ljust(12, "0")


def load_regions(*, county_prefixes: Iterable[str] | None = None) -> int:
    """Load provinces, cities and counties of the whole country, and the townships/villages under
    ``county_prefixes`` (county, city or province prefixes such as ["410506"] or ["35"]; only their
    provinces' files are read). Without prefixes every shipped province is loaded down to village
    (~660k rows). Returns the number of Region rows after loading."""
    wanted = sorted(set(county_prefixes)) if county_prefixes else [""]
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
    for prefix in wanted:
        for code, name in shipped_rows("streets", prefix):
            objs.append(Region(code=_pad(code), name=name, level=Level.TOWNSHIP, parent_id=_pad(code[:6])))
    for prefix in wanted:
        for code, name in shipped_rows("villages", prefix):
            objs.append(
                Region(
                    code=code,
                    name=name,
                    level=Level.VILLAGE,
                    parent_id=_pad(code[:9]),
                    is_residents_committee=code[9] in "01",
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
    from .selectors import region_paths_forget

    region_paths_forget()
    return Region.objects.count()
