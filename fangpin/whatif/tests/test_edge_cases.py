"""Hand-made households for the cases where a vectorised rule most easily drifts from the per-household
one: missing income, a death mid-year, overlapping income records, a per-capita figure exactly on a
rounding boundary, 渐退期 (over and not over), an active object under the elimination guards. Also: a
what-if changes nothing and is audited as a read."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.apps import apps
from django.db import connection

from fangpin.audit.models import AuditEvent
from fangpin.monitoring.rules import E_TOO_EARLY
from fangpin.monitoring.services.enrolment import gradual_exit_end
from fangpin.policy.params import parameter_change
from fangpin.whatif.evaluate import evaluate
from fangpin.whatif.paramset import ParamSet
from fangpin.whatif.services import whatif_run
from fangpin.whatif.snapshot import snapshot_build

from .helpers import ON, _at, differences, direct, whatif_rows

pytestmark = pytest.mark.django_db


def test_edge_cases_agree_with_the_services(county, personas):
    snap = snapshot_build(actor=personas["county_admin"], on=ON)
    res = evaluate(snap, ParamSet())
    mine, theirs = whatif_rows(res), direct(list(whatif_rows(res)), ON)
    assert differences(mine, theirs) == []
    h = {k: mine[v.pk] for k, v in county.items()}
    assert h["missing"]["missing"] and not h["missing"]["flagged"]  # missing is said as missing
    assert h["death"]["members"] == 1 and h["death"]["per_capita"] == 14000.0  # after the death
    assert h["overlap"]["per_capita"] == 9000.0  # not 9,000 + half of 7,800
    # exactly 7,599.995 a head: half a fen, rounded up (ROUND_HALF_UP) by the rule and by the evaluator
    assert h["boundary"]["per_capita"] == 7600.0 and not h["boundary"]["below"]
    assert bool(res.loc[county["boundary"].pk, "tie"])
    assert bool(res.loc[county["odd"].pk, "exact"])  # odd record lengths: the Python rule itself decided
    assert not res["exact"].drop(county["odd"].pk).any()
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


def test_stricter_elimination_guards_are_what_a_direct_recomputation_gives(county, personas):
    """The elimination guards (months monitored, months of income above the line) changed in a what-if
    give, household for household, what ``elimination_check`` says once real versions are in force."""
    admin = personas["county_admin"]
    settings = {"min_months": "12", "stable_months": "9"}
    c = whatif_run(actor=admin, on=ON, settings=settings)
    base = {r["household_id"] for r in c.households("eligible", which="base")}
    scen = {r["household_id"] for r in c.households("eligible")}
    assert (
        county["active"].pk in base and county["active"].pk not in scen
    )  # monitored since 2024-09: 10 months
    for key, value in (("elimination.min_months", 12), ("elimination.income_stable_months", 9)):
        parameter_change(actor=admin, key=key, value=value, region_code="410506", year=2025, basis="测试",
                         doc_no="测试〔2025〕2号")  # fmt: skip
    mine = whatif_rows(c.scen)
    theirs = direct(list(mine), ON)
    assert differences(mine, theirs) == []
    assert scen == {h for h, r in theirs.items() if r["refusals"] == []}
    assert E_TOO_EARLY in theirs[county["active"].pk]["refusals"]


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
