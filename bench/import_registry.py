"""Bench: import N persons from a national-format xlsx, end to end (read, validate, write).

    .venv/bin/python bench/import_registry.py [N=100000] [--keep DIR]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fangpin_h1 .venv/bin/python bench/import_registry.py 100000

1. builds a fresh database (SQLite in a temp dir; with DATABASE_URL also a fresh PostgreSQL database named
   <db>_bench_import, dropped and re-created), migrates, loads 龙安区 and the default parameters;
2. generates an xlsx of N persons in the national 监测对象信息 layout (title rows, header on row 3, every
   column of fangpin.registry.io.columns, Faker zh_CN names, valid IDs, ~3% monitoring objects);
3. in a child process per measurement (so peak RSS is the import's own): the raw calamine read of the
   same file (python-calamine ``to_python``, the reader the import uses, and fastexcel → Arrow), right
   before each import; the product's import (``registry_import``), then the same file again (idempotent
   no-op); and — as an extra line — a bare openpyxl ``read_only`` pass (what a user would write instead).
Prints seconds, CPU seconds, rows/s and peak RSS (resource.getrusage ru_maxrss) for each, the import's
phases, the bulk write rate (registry rows + their history rows per second of the write phase), and the
ratio import ÷ raw calamine read, by wall time and by CPU time (CPU is steadier on a shared machine; on
PostgreSQL it leaves out the server's own work, so read the wall ratio there). ``--rounds R`` alternates
read and import R times on fresh databases and reports each round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ON = dt.date(2026, 12, 1)  # the business date the imports act on

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _django(db_url: str | None, var_dir: Path) -> None:
    os.environ["FANGPIN_VAR"] = str(var_dir)
    if db_url:
        os.environ["DATABASE_URL"] = db_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")
    import django

    django.setup()


def _cpu_s() -> float:
    """This process's CPU seconds (user + system): comparable across runs on a busy shared machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- setup + generation


def setup_db() -> None:
    from django.core.management import call_command

    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role
    from fangpin.policy.params import load_defaults
    from fangpin.regions.loader import load_regions

    call_command("migrate", verbosity=0)
    load_regions(county_prefixes=["410506"])
    load_defaults()
    User.objects.get_or_create(
        username="bench_admin", defaults={"role": Role.COUNTY_ADMIN, "region_id": "410506000000"}
    )


def _village_display(name: str) -> str:
    """许串村村民委员会 → 许串村, 王家岗村民委员会 → 王家岗村 (how the national export spells it)."""
    if name.endswith("居民委员会"):
        return name.removesuffix("居民委员会")
    base = name.removesuffix("村民委员会")
    return base if base.endswith("村") else base + "村"


def generate(n: int, path: Path, seed: int = 7) -> int:
    """N persons in households of 1-6, written with openpyxl write_only. Returns households."""
    from faker import Faker
    from openpyxl import Workbook

    from fangpin.core.ids import make_id_number
    from fangpin.regions.models import Level, Region
    from fangpin.registry.io.columns import COLUMNS

    rnd = random.Random(seed)
    fake = Faker("zh_CN")
    Faker.seed(seed)
    villages = list(
        Region.objects.filter(level=Level.VILLAGE, code__startswith="410506").select_related("parent")
    )
    risks = ["因病", "因残", "因学", "因务工就业不稳", "缺劳动力", "因自然灾害"]
    used: set[str] = set()
    seqs: dict[tuple, int] = {}

    def new_id(birth: dt.date, gender: str) -> str:
        while True:
            k = (birth, gender)
            s = seqs.get(k, 0)
            seqs[k] = s + 1
            pid = make_id_number("410506", birth, s, gender)
            if pid not in used:
                used.add(pid)
                return pid

    def bday(age: int) -> dt.date:
        return dt.date(2024 - age, rnd.randint(1, 12), rnd.randint(1, 28))

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("监测对象信息")
    ws.append(["（自定义）监测对象信息"])
    ws.append([f"bench: {n} persons, seed {seed}"])
    ws.append([c.header for c in COLUMNS])
    written, hh_count = 0, 0
    while written < n:
        hh_count += 1
        v = rnd.choice(villages)
        size = min(rnd.choice([1, 2, 3, 3, 4, 4, 5, 6]), n - written)
        head_age = rnd.randint(30, 80)
        monitored = rnd.random() < 0.03
        hh = {
            "county": "龙安区",
            "township": v.parent.name,
            "village": _village_display(v.name),
            "household_no": f"{v.code}{hh_count:07d}",
            "household_type": "脱贫户" if rnd.random() < 0.6 else "一般农户",
            "phone": f"13{rnd.randint(100000000, 999999999)}",
            "wage": rnd.randint(0, 40000),
            "production_business": rnd.randint(0, 8000),
            "property_income": rnd.randint(0, 500),
            "transfer_total": rnd.randint(0, 5000),
            "production_expense": rnd.randint(0, 2000),
            "insurance_payout": 0,
            "compliant_out_of_pocket": rnd.randint(0, 3000),
            "cultivated_land_mu": round(rnd.uniform(0, 8), 1),
            "house_area_m2": rnd.randint(40, 200),
            "g_housing": "否",
        }
        if monitored:
            hh.update(
                category="脱贫不稳定户" if hh["household_type"] == "脱贫户" else "边缘易致贫户",
                identified_on=f"2023{rnd.randint(1, 12):02d}",
                risk1=rnd.choice(risks),
                eliminated="否",
            )
        members = [("户主", head_age, rnd.choice("MF"))]
        if size > 1:
            members.append(("配偶", head_age + rnd.randint(-3, 3), "F" if members[0][2] == "M" else "M"))
        while len(members) < size:
            members.append((rnd.choice(["之子", "之女"]), max(1, head_age - rnd.randint(20, 35)), ""))
        for rel, age, g in members:
            gender = g or ("M" if rel == "之子" else "F")
            birth = bday(min(age, 95))
            row = dict(
                hh,
                name=fake.name_male() if gender == "M" else fake.name_female(),
                id_type="身份证",
                id_number=new_id(birth, gender),
                gender="男" if gender == "M" else "女",
                birth_date=birth.strftime("%Y%m%d"),
                ethnicity="汉族",
                relation=rel,
                health="健康",
                labour_skill="普通劳动力" if 16 <= age <= 65 else "无劳动力",
                medical_resident="是",
                medical_employee="否",
                critical_illness_insurance="是",
                dibao="未享受",
                tekun="不享受",
                education="初中" if age >= 16 else "",
                school_status="七年级" if 12 <= age <= 13 else "",
            )
            ws.append([row.get(c.key, "") for c in COLUMNS])
            written += 1
    wb.save(str(path))
    return hh_count


# ----------------------------------------------------------------------------- measurements (child processes)


def child_import(path: Path) -> dict:
    from fangpin.accounts.models import User
    from fangpin.registry.models import Person
    from fangpin.registry.services.imports import registry_import

    admin = User.objects.get(username="bench_admin")
    data = path.read_bytes()
    cpu0 = _cpu_s()
    t = time.perf_counter()
    b = registry_import(on=ON, actor=admin, file_name=path.name, data=data, income_year=2023)
    first = time.perf_counter() - t
    cpu_first = _cpu_s() - cpu0
    rss_first = _rss_mb()
    assert b.status == "imported", (b.status, b.message, list(b.rejects.values_list("row", "reason")[:5]))
    created = sum(
        (b.details.get(k) or {}).get("created", 0)
        for k in ("households_counts", "persons_counts", "income_counts")
    )
    t = time.perf_counter()
    b2 = registry_import(on=ON, actor=admin, file_name=path.name, data=data, income_year=2023)
    second = time.perf_counter() - t
    return {
        "rows": b.rows,
        "households": b.households,
        "persons_in_db": Person.objects.count(),
        "import_s": first,
        "import_cpu_s": cpu_first,
        "import_breakdown": b.details.get("seconds"),
        "import_rss_mb": rss_first,
        "rows_written": 2 * created,  # each new household, person and income row + its '+' history row
        "reimport_s": second,
        "reimport_counts": [b2.created, b2.updated, b2.unchanged],
        "reimport_breakdown": b2.details.get("seconds"),
        "peak_rss_mb": _rss_mb(),
    }


def child_calamine(path: Path) -> dict:
    """The raw read the import is measured against: bytes → calamine → Python values / Arrow, nothing else."""
    import io

    import fastexcel
    from python_calamine import CalamineWorkbook

    data = path.read_bytes()
    cpu0, t = _cpu_s(), time.perf_counter()
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(data))
        .get_sheet_by_index(0)
        .to_python(skip_empty_area=False)
    )
    out = {
        "cells": sum(map(len, rows)),
        "calamine_s": time.perf_counter() - t,
        "calamine_cpu_s": _cpu_s() - cpu0,
    }
    del rows
    cpu0, t = _cpu_s(), time.perf_counter()
    batch = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string", eager=True)
    out.update(
        fastexcel_s=time.perf_counter() - t, fastexcel_cpu_s=_cpu_s() - cpu0, fastexcel_rows=batch.num_rows
    )
    out["peak_rss_mb"] = _rss_mb()
    return out


def child_openpyxl(path: Path) -> dict:
    import openpyxl

    t = time.perf_counter()
    wb = openpyxl.load_workbook(str(path), read_only=True)
    n = 0
    for row in wb.active.iter_rows(values_only=True):
        n += 1 if row else 0
    return {"rows_incl_title": n, "read_s": time.perf_counter() - t, "peak_rss_mb": _rss_mb()}


def _run_child(kind: str, path: Path, var_dir: Path, db_url: str | None) -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if db_url:
        env["DATABASE_URL"] = db_url
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--file", str(path), "--var", str(var_dir)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"child {kind} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_pg(db_url: str) -> str:
    """<url>/<db>_bench_import, dropped and re-created."""
    import psycopg

    base, _, name = db_url.rpartition("/")
    bench = f"{name or 'fangpin'}_bench_import"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{bench}"')
        c.execute(f'CREATE DATABASE "{bench}"')
    return f"{base}/{bench}"


def _fresh_sqlite(var: Path) -> None:
    var.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (var / f"fangpin.sqlite3{suffix}").unlink(missing_ok=True)
    _run_child("setup", Path("-"), var, None)


def _print(results: dict, n: int) -> None:
    print()
    print(f"{'path':<34}{'wall s':>8}{'CPU s':>8}{'rows/s':>9}{'peak MB':>9}  notes")
    for name, r in results.items():
        if name.startswith("openpyxl"):
            print(
                f"{'openpyxl read_only (read only)':<34}{r['read_s']:>8.1f}{'':>8}{n / r['read_s']:>9.0f}"
                f"{r['peak_rss_mb']:>9.0f}  iteration only, no validation, no write (what a user would do)"
            )
            continue
        raw, imp = r["raw"], r["import"]
        print(
            f"{'raw calamine read (to_python)':<34}{raw['calamine_s']:>8.1f}{raw['calamine_cpu_s']:>8.1f}"
            f"{n / raw['calamine_s']:>9.0f}{raw['peak_rss_mb']:>9.0f}  {raw['cells']} cells, the reader the import uses"
        )
        print(
            f"{'raw fastexcel read (Arrow, text)':<34}{raw['fastexcel_s']:>8.1f}{raw['fastexcel_cpu_s']:>8.1f}"
            f"{n / raw['fastexcel_s']:>9.0f}{'':>9}  same process, after the above"
        )
        ph = imp["import_breakdown"] or {}
        write_rate = imp["rows_written"] / ph["write"] if ph.get("write") else float("nan")
        print(
            f"{'import ' + name:<34}{imp['import_s']:>8.1f}{imp['import_cpu_s']:>8.1f}"
            f"{imp['rows'] / imp['import_s']:>9.0f}{imp['import_rss_mb']:>9.0f}  {imp['households']} households; "
            f"phases {ph}; write {imp['rows_written']} rows at {write_rate:,.0f} rows/s"
        )
        print(
            f"{'re-import ' + name + ' (no-op)':<34}{imp['reimport_s']:>8.1f}{'':>8}"
            f"{imp['rows'] / imp['reimport_s']:>9.0f}{imp['peak_rss_mb']:>9.0f}  created/updated/unchanged={imp['reimport_counts']}"
        )
        print(
            f"{'  ratio import / raw calamine':<34}{imp['import_s'] / raw['calamine_s']:>8.2f}"
            f"{imp['import_cpu_s'] / raw['calamine_cpu_s']:>8.2f}  (wall, CPU; goal ≤ 2)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--keep", default=None, help="keep the generated file and databases in this folder")
    ap.add_argument("--child", default=None)
    ap.add_argument("--file", default=None)
    ap.add_argument("--var", default=None)
    ap.add_argument("--skip-openpyxl", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()

    if a.child:
        _django(os.environ.get("DATABASE_URL"), Path(a.var))
        if a.child == "setup":
            setup_db()
            res = {"ok": True}
        elif a.child == "import":
            res = child_import(Path(a.file))
        elif a.child == "calamine":
            res = child_calamine(Path(a.file))
        else:
            res = child_openpyxl(Path(a.file))
        print(json.dumps(res, ensure_ascii=False, default=str))
        return

    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="fangpin-bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    pg_url = os.environ.get("DATABASE_URL")
    sqlite_var = work / "sqlite"
    _fresh_sqlite(sqlite_var)

    xlsx = work / f"national_{a.n}.xlsx"
    if not xlsx.exists():
        _django(None, sqlite_var)
        t = time.perf_counter()
        hh = generate(a.n, xlsx)
        print(
            f"generated {a.n} persons / {hh} households → {xlsx} ({xlsx.stat().st_size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - t:.1f} s (openpyxl write_only)"
        )
    print(f"file: {xlsx} ({xlsx.stat().st_size / 1e6:.1f} MB)")

    all_rounds = []
    for k in range(a.rounds):
        results: dict = {}
        if not a.skip_sqlite:
            if k:
                _fresh_sqlite(sqlite_var)
            raw = _run_child("calamine", xlsx, sqlite_var, None)
            results["sqlite"] = {"raw": raw, "import": _run_child("import", xlsx, sqlite_var, None)}
        if pg_url:
            url = _fresh_pg(pg_url)
            pg_var = work / "pg"
            pg_var.mkdir(exist_ok=True)
            _run_child("setup", Path("-"), pg_var, url)
            raw = _run_child("calamine", xlsx, pg_var, url)
            results["postgresql"] = {"raw": raw, "import": _run_child("import", xlsx, pg_var, url)}
        if not a.skip_openpyxl and k == 0:
            results["openpyxl_read_only"] = _run_child("openpyxl", xlsx, sqlite_var, None)
        print(f"\nround {k + 1}/{a.rounds}, load average {os.getloadavg()[0]:.1f}")
        _print(results, a.n)
        all_rounds.append(results)
    print(json.dumps(all_rounds, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
