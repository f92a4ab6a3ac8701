"""Bench: loading the shipped divisions (all 31 provinces down to village) into a fresh database.

    .venv/bin/python bench/regions_load.py [COUNTY ...]          (default 350722 341324 522729 410506)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fangpin_x .venv/bin/python bench/regions_load.py

For each county, in a fresh database (SQLite in a temp dir; with DATABASE_URL a fresh PostgreSQL database
<db>_bench_regions): ``load_regions(county_prefixes=[county])`` — what ``fangpin setup --county`` does:
the national tree to county level plus the county, reading only its province's file. Beside it, two
baselines: reading and filtering *every* province file for the county (what a loader without per-province
files would do), and loading the whole country (``fangpin regions_load`` without --county).
Prints seconds and rows.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _fresh_db(tmp: Path) -> None:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        name = f"{name}_bench_regions"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"


def main() -> None:
    counties = sys.argv[1:] or ["350722", "341324", "522729", "410506"]
    tmp = Path(tempfile.mkdtemp(prefix="fangpin-bench-regions-"))
    _fresh_db(tmp)
    os.environ["FANGPIN_VAR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")
    import django

    django.setup()
    from django.core.management import call_command

    from fangpin.regions.loader import load_regions, shipped_provinces, shipped_rows
    from fangpin.regions.models import Region

    call_command("migrate", verbosity=0)
    engine = django.db.connection.vendor
    print(f"database: {engine}")
    print(f"{'what':<52} {'seconds':>8} {'rows':>9}")
    for county in counties:
        Region.objects.all()._raw_delete("default")
        t = time.perf_counter()
        n = load_regions(county_prefixes=[county])
        print(
            f"{'load_regions(county ' + county + ')  [setup --county]':<52} {time.perf_counter() - t:8.2f} {n:9d}"
        )
        t = time.perf_counter()
        k = sum(
            1 for p in shipped_provinces() for c, _ in shipped_rows("villages", p) if c.startswith(county)
        )
        print(f"{'  baseline: scan every province file for it':<52} {time.perf_counter() - t:8.2f} {k:9d}")
    Region.objects.all()._raw_delete("default")
    t = time.perf_counter()
    n = load_regions()
    print(f"{'load_regions() whole country  [regions_load]':<52} {time.perf_counter() - t:8.2f} {n:9d}")


if __name__ == "__main__":
    main()
