"""Hand-made households shared by the what-if tests (see test_edge_cases.py for what each stands for)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fangpin.monitoring.models import MeasureStatus
from fangpin.monitoring.services.assistance import measure_add
from fangpin.monitoring.services.enrolment import enrol_existing
from fangpin.registry.models import IncomeRecord
from fangpin.registry.services.members import do_member_remove
from fangpin.testing import factories as f

from .helpers import _at


@pytest.fixture
def county(personas):
    admin = personas["county_admin"]
    hh = {}
    with _at(2025, 1, 5):
        hh["missing"] = f.household()
        f.person(hh["missing"])

        hh["death"] = f.household(household_type="脱贫户")
        f.person(hh["death"], name="王建国")
        grandpa = f.person(hh["death"], name="王德福", relation="之父", birth=dt.date(1940, 1, 1))
        f.income(hh["death"], year=2024, wage=14000)  # 7,000 a head for two, 14,000 for one

        hh["overlap"] = f.household(household_type="一般农户")
        f.person(hh["overlap"])
        f.income(hh["overlap"], year=2024, wage=7000, transfer_pension=800)

        hh["boundary"] = f.household(household_type="一般农户")
        f.person(hh["boundary"])
        f.person(hh["boundary"], name="李秀英", gender="F", relation="配偶")
        IncomeRecord.objects.create(  # 15,199.99 / 2 = 7,599.995 → 7,600.00: not under the line
            household=hh["boundary"], period_start=dt.date(2024, 7, 1), period_end=dt.date(2025, 6, 30),
            wage=Decimal("15199.99"),
        )  # fmt: skip

        hh["odd"] = f.household(household_type="一般农户")  # record lengths 7, 11, 13, 16: lcm 16,016
        f.person(hh["odd"])
        for a, b, wage in (((2022, 1), (2022, 7), "5000.03"), ((2022, 8), (2023, 6), "7000.07"),
                           ((2023, 7), (2024, 7), "8000.11"), ((2024, 8), (2025, 11), "9876.54")):  # fmt: skip
            IncomeRecord.objects.create(
                household=hh["odd"],
                period_start=dt.date(*a, 1),
                period_end=dt.date(*b, 28),
                wage=Decimal(wage),
            )

        hh["exit_over"] = f.household(village=f.VILLAGE_B1)
        f.person(hh["exit_over"])
        f.income(hh["exit_over"], year=2024, wage=12000)
        hh["exit_on"] = f.household(village=f.VILLAGE_B1)
        f.person(hh["exit_on"])
        f.income(hh["exit_on"], year=2024, wage=12000)
        hh["active"] = f.household(village=f.VILLAGE_A2)
        f.person(hh["active"])
        f.income(hh["active"], year=2024, wage=8000)  # above 7,600, under 7,600 + 10%
        hh["active_low"] = f.household(village=f.VILLAGE_A2)
        f.person(hh["active_low"])
        f.income(hh["active_low"], year=2024, wage=6000)
        hh["rich"] = f.household(village=f.VILLAGE_A2)
        f.person(hh["rich"])
        f.income(hh["rich"], year=2024, wage=30000)
    with _at(2025, 3, 20):  # recorded in March, effective 10 March
        do_member_remove(actor=admin, person=grandpa, kind="death", date=dt.date(2025, 3, 10))
    with _at(2025, 7, 2):  # a 12-month record entered later replaces the year's shared months
        IncomeRecord.objects.create(
            household=hh["overlap"], period_start=dt.date(2024, 7, 1), period_end=dt.date(2025, 6, 30),
            wage=Decimal("9000"),
        )  # fmt: skip
    with _at(2025, 7, 3):
        enrol_existing(actor=admin, household=hh["exit_over"], category="脱贫不稳定户", risk_types=["因病"],
                       identified_on=dt.date(2023, 5, 1), eliminated_on=dt.date(2024, 3, 1),
                       elimination_method="帮扶消除")  # fmt: skip
        enrol_existing(actor=admin, household=hh["exit_on"], category="脱贫不稳定户", risk_types=["因病"],
                       identified_on=dt.date(2024, 2, 1), eliminated_on=dt.date(2025, 1, 10),
                       elimination_method="帮扶消除")  # fmt: skip
        for key in ("active", "active_low"):
            obj = enrol_existing(actor=admin, household=hh[key], category="脱贫不稳定户",
                                 risk_types=["因务工就业不稳"], identified_on=dt.date(2024, 9, 1))  # fmt: skip
            measure_add(actor=admin, monitoring_object=obj, name="就业", start_on=dt.date(2024, 10, 1),
                        end_on=dt.date(2025, 2, 1), status=MeasureStatus.DONE)  # fmt: skip
    return hh


@pytest.fixture(autouse=True)
def _own_files_dir(settings, tmp_path):
    """Each test its own files directory: a maintained snapshot of one test's registry is never another's
    (SQLite's test database hands out the same ids again after a rollback, so two tests' stamps can agree,
    while the factories' household numbers differ)."""
    from fangpin.web.views import whatif as view

    settings.FANGPIN_FILES_DIR = str(tmp_path / "files")
    view._CACHE.clear()  # the screen's in-process snapshots, likewise
    yield
    view._CACHE.clear()
