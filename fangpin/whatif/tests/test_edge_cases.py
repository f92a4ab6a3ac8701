"""Hand-made households for the cases where a vectorised rule most easily drifts from the per-household
one: missing income, a death mid-year, overlapping income records, a per-capita figure exactly on a
rounding boundary, 渐退期 (over and not over), an active object under the elimination guards. Also: a
what-if changes nothing and is audited as a read."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.db import connection

from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import MeasureStatus
from fangpin.monitoring.services.assistance import measure_add
from fangpin.monitoring.services.enrolment import enrol_existing, gradual_exit_end
from fangpin.policy.params import parameter_change
from fangpin.registry.models import Household, IncomeRecord
from fangpin.registry.services.members import do_member_remove
from fangpin.testing import factories as f
from fangpin.whatif.evaluate import evaluate
from fangpin.whatif.paramset import ParamSet
from fangpin.whatif.services import whatif_run
from fangpin.whatif.snapshot import snapshot_build

from .helpers import differences, direct, whatif_rows

pytestmark = pytest.mark.django_db

ON = dt.date(2025, 7, 15)  # 龙安区 2025 line: 7,600


def _at(y, m, d):
    return time_machine.travel(dt.datetime(y, m, d, 9, tzinfo=dt.UTC), tick=False)


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

        hh["exit_over"] = f.household(village=f.VILLAGE_B1)
        f.person(hh["exit_over"])
        f.income(hh["exit_over"], year=2024, wage=12000)
        hh["exit_on"] = f.household(village=f.VILLAGE_B1)
        f.person(hh["exit_on"])
        f.income(hh["exit_on"], year=2024, wage=12000)
        hh["active"] = f.household(village=f.VILLAGE_A2)
        f.person(hh["active"])
        f.income(hh["active"], year=2024, wage=9000)
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


def test_edge_cases_agree_with_the_services(county, personas):
    snap = snapshot_build(actor=personas["county_admin"], on=ON)
    res = evaluate(snap, ParamSet())
    mine, theirs = whatif_rows(res), direct(list(whatif_rows(res)), ON)
    assert differences(mine, theirs) == []
    h = {k: mine[v.pk] for k, v in county.items()}
    assert h["missing"]["missing"] and not h["missing"]["flagged"]  # missing is said as missing
    assert h["death"]["members"] == 1 and h["death"]["per_capita"] == 14000.0  # after the death
    assert h["overlap"]["per_capita"] == 9000.0  # not 9,000 + half of 7,800
    # exactly 7,599.995 a head: DOUBLE cannot round it, so the rule itself decides — and the rule (12 twelfths
    # summed in 28-digit Decimal) says 7,599.99, under the line; the evaluator says the same
    assert h["boundary"]["per_capita"] == 7599.99 and h["boundary"]["below"]
    assert bool(res.loc[county["boundary"].pk, "exact"])
    assert not h["exit_over"]["monitored"] and h["exit_on"]["monitored"]  # 渐退期 over / not over
    assert h["active"]["refusals"] == [] and "elimination_income_unstable" in h["active_low"]["refusals"]
    assert h["rich"]["category"] == "" and h["active_low"]["category"] == "脱贫不稳定户"


def test_a_shorter_gradual_exit_is_what_a_direct_recomputation_gives(county, personas):
    admin = personas["county_admin"]
    c = whatif_run(actor=admin, on=ON, settings={"gradual_exit_months": "6"})
    left = {r["household_id"] for r in c.households("leave")}
    assert left == {county["exit_on"].pk}  # eliminated 2025-01-10: 6 months end 2025-07-10
    with _at(2025, 7, 20):
        parameter_change(actor=admin, key="elimination.gradual_exit_months", value=6, region_code="410506",
                         year=2025, basis="测试", doc_no="测试〔2025〕1号")  # fmt: skip
    until, _ref = gradual_exit_end(county["exit_on"], dt.date(2025, 1, 10))
    assert until < ON  # the rule now ends its 渐退期 before the date, as the what-if said
    assert c.total["base"]["leave"]["households"] == 0 and c.total["scen"]["leave"]["households"] == 1


def _table_digest() -> dict[str, str]:
    """Every table's content except the audit log's, as a digest."""
    out = {}
    with connection.cursor() as cur:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table == AuditEvent._meta.db_table:
                continue
            cur.execute(f'SELECT * FROM "{table}"')
            rows = sorted(repr(r) for r in cur.fetchall())
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def test_a_what_if_changes_nothing_and_is_audited_as_a_read(county, personas):
    admin = personas["county_admin"]
    before, seq = _table_digest(), AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    c = whatif_run(actor=admin, on=ON, settings={"monitoring_line": "+10%", "min_months": "3",
                                                 "gradual_exit_months": "6"})  # fmt: skip
    assert c.changed  # something would change …
    assert _table_digest() == before  # … and nothing did
    new = list(AuditEvent.objects.filter(seq__gt=seq))
    assert [e.event_type for e in new] == ["whatif.view"]
    assert new[0].data["read"] is True and new[0].data["changed_households"] == len(c.changed)
