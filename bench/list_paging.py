"""Bench: the household list's count and deep pages over a whole county, product beside the former way.

    DATABASE_URL=postgres://…/fangpin_load FANGPIN_DATA_KEYS=… FANGPIN_INDEX_KEY=… \\
        DJANGO_SETTINGS_MODULE=fangpin.settings.prod python bench/list_paging.py [--page 200] [--runs 3]

(``bench/load.py`` builds the million-person county ``fangpin_load`` and prints the keys it uses in its
``_env``.) For a county-level user (``load_county``, made if missing) it times, interleaved in one run:
the exact ``COUNT(*)`` against ``bounded_count`` (``COUNT_CAP``), and one page deep in the list fetched in one
step (the annotated rows with ``OFFSET``) against ``household_page_rows`` (the page's ids, then its rows);
wall and CPU (this process) per variant, best of ``--runs``."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.prod")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sort", default="household_no")
    a = ap.parse_args()
    import django

    django.setup()
    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role
    from fangpin.monitoring.household_search import (
        COUNT_CAP,
        HouseholdFilter,
        bounded_count,
        household_page_rows,
        household_rows,
        household_search_qs,
    )

    county = "410506000000"
    user, _ = User.objects.get_or_create(
        username="load_county", defaults={"role": Role.COUNTY_ADMIN, "region_id": county}
    )
    qs = household_search_qs(actor=user, f=HouseholdFilter(), on=dt.date.today())
    offset, size = (a.page - 1) * 50, 50
    pairs = [
        (
            "count",
            "exact COUNT(*)",
            lambda: qs.count(),
            f"bounded (cap {COUNT_CAP:,})",
            lambda: bounded_count(qs),
        ),
        (
            f"page {a.page}",
            "one step (annotated OFFSET)",
            lambda: len(list(household_rows(qs, sort=a.sort)[offset : offset + size])),
            "two steps (ids, then rows)",
            lambda: len(household_page_rows(qs, sort=a.sort, offset=offset, limit=size)),
        ),
    ]

    def timed(fn) -> tuple[float, float, object]:  # noqa: ANN001
        best = (float("inf"), 0.0, None)
        for _ in range(a.runs):
            t, c = time.perf_counter(), time.process_time()
            out = fn()
            w = (time.perf_counter() - t) * 1000
            if w < best[0]:
                best = (w, (time.process_time() - c) * 1000, out)
        return best

    print(f"county {county}: {qs.count():,} households; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':10} {'before':32} {'wall':>8} {'cpu':>6}   {'after':30} {'wall':>8} {'cpu':>6}")
    for what, bname, before, pname, after in pairs:
        bw, bc, bo = timed(before)
        aw, ac, ao = timed(after)
        print(
            f"{what:10} {bname:32} {bw:6.0f}ms {bc:4.0f}ms   {pname:30} {aw:6.0f}ms {ac:4.0f}ms  ({bo} / {ao})"
        )


if __name__ == "__main__":
    main()
