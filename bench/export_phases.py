"""Bench: where an export's time goes — queries, decryption, masking, row building, xlsx writing — for the
searched list of the load bench (导出筛选结果, ``q`` = two characters of a name) and the whole village.

    python bench/export_phases.py --database-url postgres://…/fangpin_load_copy [--terms 20] [--village]

Runs ``registry.io.export.registry_export`` in-process with the load bench's settings and keys
(``bench/load.py::_env``; the database must have been migrated by ``bench/load.py`` once), as the bench's
village cadre, over the first ``--terms`` search terms of the bench plan (the same terms the locust users
type). Prints per export kind: rows, wall and CPU ms (median), and the profile's own time (cProfile
tottime, one extra run) grouped by where it was spent. Read-only, except the audit events the exports write.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS = (  # first match wins: (group, substrings of the function's file or name)
    ("decryption (SM4-GCM)", ("core/crypto.py", "cryptography/", "fields.py")),
    ("masking", ("core/masking.py",)),
    ("xlsx writing (SpreadsheetML, zip)", ("io/xlsx.py", "zipfile", "zlib", "'compress'", "'write'")),
    (
        "row building (export.py, 三保障, income)",
        ("io/export.py", "policy/rules", "io/columns.py", "decimal"),
    ),
    ("database (psycopg, wire)", ("psycopg", "'execute'", "'fetch", "socket", "'recv'")),
    ("ORM (queryset, values, params)", ("django/db", "policy/params.py", "django/utils")),
)


def _group(func: tuple) -> str:
    where = f"{func[0]}:{func[2]!r}"
    for name, keys in GROUPS:
        if any(k in where for k in keys):
            return name
    return "other"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--terms", type=int, default=20, help="search terms of the plan (one export each)")
    ap.add_argument("--village", action="store_true", help="also the whole village (one run, profiled)")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from load import _env  # the bench keys the database was built with

    var = Path(tempfile.mkdtemp(prefix="fangpin-phases-"))
    os.environ.update(_env(a.database_url, var))
    import django

    django.setup()
    import cProfile
    import pstats

    from django.db.models import Count

    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role
    from fangpin.core import clock
    from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
    from fangpin.registry.io.export import registry_export
    from fangpin.registry.models import Household, Person

    village = (
        Household.objects.values("village_id").annotate(n=Count("id")).order_by("-n").first()["village_id"]
    )
    cadre, _ = User.objects.get_or_create(
        username="load_cadre", defaults={"role": Role.VILLAGE_CADRE, "region_id": village}
    )
    names = Person.objects.filter(household__village_id=village).values_list("name", flat=True)[:200]
    terms = list(dict.fromkeys(n[:2] for n in names))[: a.terms]
    on = clock.today()

    def export(q: str) -> int:
        f = HouseholdFilter.from_params({"q": q})
        qs = household_search_qs(actor=cadre, f=f, on=on, gate=False)
        res = registry_export(actor=cadre, out_path=var / "x.xlsx", on=on, households=qs.order_by().values("pk"),
                              filters=f.as_params())  # fmt: skip
        return res.rows

    def measure(label: str, qs: list[str]) -> None:
        export(qs[0])  # warm (parameters, regions, code paths)
        wall, cpu, rows = [], [], []
        for q in qs:
            t, c = time.perf_counter(), time.process_time()
            rows.append(export(q))
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        prof = cProfile.Profile()
        prof.enable()
        for q in qs:
            export(q)
        prof.disable()
        st = pstats.Stats(prof)
        by: dict[str, float] = {}
        for func, (_cc, _nc, tt, _ct, _callers) in st.stats.items():
            by[_group(func)] = by.get(_group(func), 0.0) + tt
        total = sum(by.values())
        print(f"\n{label}: {len(qs)} exports, rows median {statistics.median(rows):.0f} (max {max(rows)}); "
              f"wall median {statistics.median(wall):.0f} ms, CPU median {statistics.median(cpu):.0f} ms "
              f"(p90 wall {sorted(wall)[int(len(wall) * 0.9) - 1 if len(wall) > 1 else 0]:.0f} ms)")  # fmt: skip
        for name, tt in sorted(by.items(), key=lambda kv: -kv[1]):
            print(f"  {name:42} {tt / len(qs) * 1000:7.1f} ms/export  {tt / total:5.1%} of profiled time")

    print(f"village {village}, {Household.objects.filter(village_id=village).count():,} households; "
          f"{Person.objects.filter(is_member=True).count():,} persons in the county; load {os.getloadavg()}")  # fmt: skip
    measure("searched list (q = two characters of a name)", terms)
    if a.village:
        measure("whole village (no q)", [""])


if __name__ == "__main__":
    main()
