"""统计分析 and report timings on a demo database (run after ``./run demo`` or ``fangpin demo_county``).

    FANGPIN_VAR=... python bench/reports.py [--as county_admin] [--month YYYY-MM]

Prints, for the user's region: the indicator table by township, the income distribution, the monthly table
as Excel and PDF, and the quarterly bulletin — seconds and SQL queries each — beside the baseline of one
``household_income_assess`` per monitored household (what a view without the bulk path would do)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from fangpin.accounts.models import User  # noqa: E402
from fangpin.core import clock  # noqa: E402
from fangpin.registry.services.assessment import household_income_assess  # noqa: E402
from fangpin.reports.excel import report_xlsx  # noqa: E402
from fangpin.reports.indicators import (  # noqa: E402
    _objects_active,
    income_distribution,
    indicator_table,
    month_period,
)
from fangpin.reports.printable import report_pdf  # noqa: E402
from fangpin.reports.tables import last_complete, monthly_progress, quarterly_bulletin  # noqa: E402


def timed(label: str, fn):
    with CaptureQueriesContext(connection) as q:
        t = time.perf_counter()
        out = fn()
        took = time.perf_counter() - t
    print(f"{label:<42} {took:8.3f} s {len(q):6d} queries")
    return out, took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--as", dest="username", default="county_admin")
    ap.add_argument("--month", default="")
    a = ap.parse_args()
    actor = User.objects.get(username=a.username)
    y, m = (int(x) for x in a.month.split("-")) if a.month else last_complete("monthly", clock.today())
    period = month_period(y, m)
    n_obj = _objects_active(actor, period).count()
    print(f"region {actor.region_id}, {y}-{m:02d}, {n_obj} monitoring objects at month end")
    timed("indicator_table (all indicators)", lambda: indicator_table(actor=actor, period=period))
    _, bulk = timed(
        "income_distribution (bulk path)", lambda: income_distribution(actor=actor, on=period.end)
    )
    t, _ = timed("monthly_progress table", lambda: monthly_progress(actor=actor, year=y, month=m))
    timed("  as Excel", lambda: report_xlsx(t))
    timed("  as PDF (WeasyPrint)", lambda: report_pdf(t))
    timed(
        "quarterly_bulletin (published)",
        lambda: quarterly_bulletin(actor=actor, year=y, quarter=(m - 1) // 3 + 1),
    )

    sample = list(_objects_active(actor, period).select_related("household")[:200])

    def baseline():
        for mo in sample:
            household_income_assess(mo.household, month=period.end.replace(day=1))

    _, base = timed(f"baseline: household_income_assess × {len(sample)}", baseline)
    per_bulk = bulk / max(n_obj, 1)
    per_base = base / max(len(sample), 1)
    print(
        f"income per household: bulk {per_bulk * 1000:.2f} ms vs baseline {per_base * 1000:.2f} ms "
        f"({per_base / max(per_bulk, 1e-9):.1f}×)"
    )


if __name__ == "__main__":
    main()
