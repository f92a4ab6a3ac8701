"""Green channel, reversal through the procedure, re-annotation, visits due, checks, rules."""

import datetime as dt

import pytest

from fangpin.accounts.actors import system_actor
from fangpin.core.errors import DomainError
from fangpin.monitoring import rules, selectors
from fangpin.monitoring import warnings as W
from fangpin.monitoring.models import Lead, MonitoringObject
from fangpin.monitoring.services import (
    assistance,
    cases,
    elimination,
    enrolment,
    identification,
    leads,
    visits,
)
from fangpin.registry.checks import CheckContext, run_checks
from fangpin.registry.models import Household, Person
from fangpin.testing import factories as f

from .helpers import checklist, extra_user, poor_exited_household, run_village_steps

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None

J = dt.date


@pytest.mark.parametrize(
    ("hh_type", "below", "after_rigid", "expected"),
    [
        ("脱贫户", True, True, "脱贫不稳定户"),
        ("一般农户", True, True, "边缘易致贫户"),
        ("脱贫户", False, True, "突发严重困难户"),
        ("一般农户", False, True, "突发严重困难户"),
        ("一般农户", False, False, ""),
    ],
)
def test_derive_category(hh_type, below, after_rigid, expected):
    assert (
        rules.derive_category(
            household_type=hh_type, below_line=below, below_line_after_rigid=after_rigid
        ).category
        == expected
    )


def test_elimination_guards_never_eliminate_a_household_without_labour():
    facts = rules.EliminationFacts(
        identified_on=J(2024, 1, 5),
        on=J(2025, 1, 5),
        measures_done=2,
        labour_members=0,
        income_months_above=6,
        guarantees_ok=True,
    )
    refusals = rules.elimination_refusals(facts, min_months=6, stable_months=6, min_measures_done=1)
    assert [r.code for r in refusals] == [rules.E_NO_LABOUR]
    facts.labour_members = 1
    assert rules.elimination_refusals(facts, min_months=6, stable_months=6, min_measures_done=1) == []


@pytest.mark.django_db
def test_green_channel_enrols_first_then_completes_or_revokes(personas):
    hh = poor_exited_household(f.VILLAGE_B1)
    lead = leads.lead_submit(
        actor=SYSTEM,
        household=hh,
        channel="disaster",
        source_ref="disaster:3",
        risk_types=["因自然灾害"],
        on=J(2025, 7, 1),
    )
    with pytest.raises(DomainError) as e:
        identification.green_channel_enrol(
            actor=personas["township_b"], lead=lead, risk_types=["因学"], reason="暴雨", on=J(2025, 7, 1)
        )
    assert e.value.code == identification.E_GREEN_NOT_ELIGIBLE
    case = identification.green_channel_enrol(
        actor=personas["township_b"],
        lead=lead,
        risk_types=["因自然灾害"],
        reason="7月1日暴雨冲毁住房",
        on=J(2025, 7, 1),
    )
    obj = case.monitoring_object
    assert obj.status == "active" and obj.origin == "green_channel" and case.due_on == J(2025, 7, 31)
    # not completed in time → surfaces as overdue to township B only
    late = selectors.overdue_items(actor=personas["township_b"], on=J(2025, 8, 5), include_visits=False)
    assert ("green_channel", case.pk) in {(i.kind, i.case_id) for i in late}
    # a visit in the meantime attaches to the object's lead instead of a new one
    visits.visit_log(
        actor=personas["cadre_b1"],
        household=hh,
        visited_on=J(2025, 7, 3),
        checklist=checklist(disaster="房屋倒塌"),
        has_risk=True,
        risk_types=["因自然灾害"],
    )
    assert Lead.objects.filter(household=hh).count() == 1
    end = run_village_steps(case, personas["cadre_b1"], start=J(2025, 7, 2))
    cases.case_step_complete(
        actor=extra_user("tb2", "township_reviewer", f.TOWNSHIP_B),
        case=case,
        step="township",
        on=end,
    )
    cases.case_step_complete(
        actor=personas["county_reviewer"], case=case, step="county", on=end + dt.timedelta(days=1)
    )
    obj.refresh_from_db()
    assert obj.status == "active" and obj.decision["procedure_completed_on"]
    assert MonitoringObject.objects.filter(household=hh).count() == 1

    # the same on another household, rejected at 民主评议 → enrolment revoked, lead closed
    hh2 = poor_exited_household(f.VILLAGE_B1)
    lead2 = leads.lead_submit(
        actor=SYSTEM, household=hh2, channel="disaster", risk_types=["因自然灾害"], on=J(2025, 7, 1)
    )
    case2 = identification.green_channel_enrol(
        actor=personas["county_admin"], lead=lead2, risk_types=["因自然灾害"], reason="暴雨", on=J(2025, 7, 1)
    )
    cases.case_step_complete(actor=personas["cadre_b1"], case=case2, step="verify", on=J(2025, 7, 2))
    cases.case_step_complete(actor=personas["cadre_b1"], case=case2, step="compare", on=J(2025, 7, 2))
    cases.case_reject(
        actor=personas["cadre_b1"], case=case2, reason="评议认为损失已由保险赔付", on=J(2025, 7, 4)
    )
    case2.monitoring_object.refresh_from_db()
    assert case2.monitoring_object.status == "revoked"
    lead2.refresh_from_db()
    assert lead2.outcome == "not_a_risk" and "民主评议不予通过" in lead2.outcome_reason


@pytest.mark.django_db
def test_reversal_through_the_procedure_and_reannotation(personas):
    hh = poor_exited_household()
    obj = enrolment.enrol_existing(
        actor=SYSTEM,
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病"],
        identified_on=J(2024, 3, 1),
        eliminated_on=J(2024, 12, 1),
        elimination_method="自然消除",
    )
    with pytest.raises(DomainError) as e:
        elimination.reversal_propose(
            actor=personas["cadre_a1"], monitoring_object=obj, reason=" ", on=J(2025, 6, 2)
        )
    assert e.value.code == "reversal_reason_required"
    case = elimination.reversal_propose(
        actor=personas["cadre_a1"], monitoring_object=obj, reason="无劳动能力，需纳入低保", on=J(2025, 6, 2)
    )
    end = run_village_steps(case, personas["cadre_a1"], start=J(2025, 6, 2), kind_has_compare=False)
    cases.case_step_complete(actor=personas["township_a"], case=case, step="township", on=end)
    cases.case_step_complete(actor=personas["county_reviewer"], case=case, step="county", on=end)
    obj.refresh_from_db()
    assert obj.status == "active" and obj.reversals == 1
    # 再标注: after a later (imported) elimination a new risk opens a new lead, then a new case
    obj2 = enrolment.enrol_existing(
        actor=SYSTEM,
        household=f.household(),
        category="边缘易致贫户",
        risk_types=["因学"],
        identified_on=J(2023, 1, 1),
        eliminated_on=J(2023, 9, 1),
        elimination_method="帮扶消除",
    )
    new = leads.lead_submit(
        actor=personas["cadre_a1"],
        household=obj2.household,
        channel="other",
        risk_types=["因病"],
        on=J(2025, 6, 2),
    )
    assert new.pk != obj2.lead_id and new.status == "open"
    counts = selectors.exit_outcomes(actor=personas["county_admin"], on=J(2025, 6, 30))
    assert counts["sustained"] == 1 and counts["reversed"] == 1


@pytest.mark.django_db
def test_visits_due_key_monthly_others_quarterly(personas):
    cadre = personas["cadre_a1"]
    key = poor_exited_household()
    enrolment.enrol_existing(
        actor=SYSTEM, household=key, category="脱贫不稳定户", risk_types=["因病"], identified_on=J(2025, 1, 1)
    )
    other = f.household(f.VILLAGE_A1)
    never = f.household(f.VILLAGE_A1)
    for hh in (key, other):
        visits.visit_log(
            actor=cadre, household=hh, visited_on=J(2025, 3, 10), checklist=checklist(), has_risk=False
        )
    with pytest.raises(DomainError) as e:
        visits.visit_log(
            actor=cadre, household=other, visited_on=J(2025, 3, 10), checklist={"water": True}, has_risk=False
        )
    assert e.value.code == visits.E_CHECKLIST

    def due(month):
        return {v.household_id: v.overdue for v in selectors.visits_due(actor=cadre, month=month)}

    assert due(J(2025, 3, 1)) == {never.id: False}
    assert due(J(2025, 4, 1)) == {key.id: False, never.id: False}
    assert due(J(2025, 5, 1)) == {key.id: True, never.id: False}
    assert due(J(2025, 6, 1)) == {key.id: True, other.id: False, never.id: False}
    assert due(J(2025, 7, 1))[other.id] is True
    assert selectors.visits_due(actor=personas["cadre_a2"], month=J(2025, 6, 1)) == []


@pytest.mark.django_db
def test_warnings_registered_in_the_check_runner(personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh, name="甲", labour_skill="普通劳动力", dibao="农村低保")
    f.person(hh, name="乙", relation="配偶", gender="F", labour_skill="普通劳动力")
    obj = enrolment.enrol_existing(
        actor=SYSTEM,
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病", "因残", "缺劳动力"],
        identified_on=J(2024, 10, 1),
    )
    ctx = CheckContext(
        households=Household.objects.all(), persons=Person.objects.filter(is_member=True), on=J(2025, 6, 1)
    )
    found = {x.code for x in run_checks(ctx, codes=list(W.TITLES))}
    assert found == {
        W.NO_MEASURE,
        W.NO_DEVELOPMENTAL,
        W.RISK_UNMATCHED,
        W.DIBAO_NO_MEASURE,
        W.RISK_ILLNESS,
        W.RISK_DISABILITY,
        W.RISK_LABOUR_SHORT,
    }
    # a measure cannot be added once the month's object is eliminated; while active it clears warnings
    assistance.measure_add(
        actor=personas["cadre_a1"],
        monitoring_object=obj,
        name="低保",
        start_on=J(2025, 1, 1),
        status="in_progress",
    )
    assistance.measure_add(
        actor=personas["cadre_a1"],
        monitoring_object=obj,
        name="公益岗位",
        start_on=J(2025, 1, 1),
        status="in_progress",
    )
    found = {x.code for x in run_checks(ctx, codes=list(W.TITLES))}
    assert W.NO_MEASURE not in found and W.NO_DEVELOPMENTAL not in found and W.DIBAO_NO_MEASURE not in found
    with pytest.raises(DomainError) as e:
        assistance.measure_update(actor=personas["cadre_a1"], measure=obj.measures.first(), status="planned")
    assert e.value.code == assistance.E_MEASURE_STATUS


@pytest.mark.django_db
def test_a_new_risk_right_after_a_reversal_opens_its_own_lead_and_identification(personas):
    """#14 item 8: a household enrolled through a lead, eliminated, then reversed (风险消除回退) reports a
    new risk (再标注): the report must not join the old, closed lead, and it must start an identification
    whose approval adds the risk to the household's one monitoring object."""
    from fangpin.monitoring.services.leads import lead_finish

    cadre, township, county = personas["cadre_a1"], personas["township_a"], personas["county_reviewer"]
    hh = poor_exited_household()
    old = leads.lead_submit(
        actor=cadre, household=hh, channel="cadre_visit", risk_types=["因病"], on=J(2024, 2, 1)
    )
    obj = enrolment.enrol_existing(
        actor=SYSTEM,
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病"],
        identified_on=J(2024, 3, 1),
        eliminated_on=J(2024, 12, 1),
        elimination_method="帮扶消除",
    )
    obj.lead = old
    obj.save(update_fields=["lead"])
    lead_finish(old, actor=county, outcome="confirmed", reason="县级审定纳入", on=J(2024, 3, 1))
    elimination.elimination_reverse(
        actor=personas["county_admin"], monitoring_object=obj, reason="收入不稳定，回退", on=J(2025, 6, 2)
    )
    obj.refresh_from_db()
    assert obj.status == "active" and obj.lead_id == old.pk

    # the same risk again: recorded as already monitored, on the object's lead
    same = leads.lead_submit(
        actor=cadre, household=hh, channel="cadre_visit", risk_types=["因病"], on=J(2025, 6, 3)
    )
    assert same.pk == old.pk and same.sources.last().outcome == "already_monitored"
    # a new risk: its own open lead, and an identification can start
    new = leads.lead_submit(
        actor=cadre, household=hh, channel="cadre_visit", risk_types=["因学"], on=J(2025, 6, 3)
    )
    assert new.pk != old.pk and new.status == "open" and not new.sources.get().already_monitored
    old.refresh_from_db()
    assert old.status == "closed" and old.sources.count() == 2  # the first report and the "already" one
    case = identification.case_open(actor=cadre, lead=new, on=J(2025, 6, 4))
    end = run_village_steps(case, cadre, start=J(2025, 6, 4))
    cases.case_step_complete(actor=township, case=case, step="township", on=end)
    cases.case_step_complete(actor=county, case=case, step="county", on=end)
    case.refresh_from_db()
    new.refresh_from_db()
    obj.refresh_from_db()
    assert case.status == "approved" and case.monitoring_object_id == obj.pk
    assert new.status == "closed" and new.outcome == "confirmed"
    assert obj.risk_types == ["因病", "因学"] and obj.decision["remarked"][0]["lead"] == new.pk
    assert MonitoringObject.objects.filter(household=hh, status="active").count() == 1


@pytest.mark.django_db
def test_verify_says_missing_income_as_missing_not_above_the_line(personas):
    from fangpin.monitoring.services import steps

    cadre = personas["cadre_a1"]
    hh = f.household(household_type="一般农户")
    f.person(hh)
    lead = leads.lead_submit(
        actor=cadre, household=hh, channel="cadre_visit", risk_types=["因病"], on=J(2025, 6, 2)
    )
    case = identification.case_open(actor=cadre, lead=lead, on=J(2025, 6, 2))
    with pytest.raises(DomainError) as e:
        cases.case_step_complete(
            actor=cadre, case=case, step="verify", on=J(2025, 6, 3), data={"findings": "入户"}
        )
    assert e.value.code == steps.E_INCOME_MISSING and "收入数据不完整" in e.value.message
    assert "高于" not in e.value.message
