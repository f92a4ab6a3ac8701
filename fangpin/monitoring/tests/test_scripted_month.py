"""Done-means of issue 3: a scripted month (June 2025, then the clock moved to 2026) through the services.

Leads from the three channels → dedup → cases through every step with publicity respected → enrolments
with categories and measures → an elimination after the minimum months → a reversal; the guards reject
with their codes; the timeline reconstructs each case; the region scope holds for every role."""

import datetime as dt

import pytest

from fangpin.accounts.actors import system_actor
from fangpin.audit.record import audit_verify
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.monitoring import rules, selectors
from fangpin.monitoring import warnings as W
from fangpin.monitoring.models import Lead, LeadSource, Measure, MonitoringObject
from fangpin.monitoring.services import assistance, cases, elimination, identification, leads, steps, visits
from fangpin.testing import factories as f

from .helpers import Role, checklist, extra_user, poor_exited_household, run_village_steps, sudden_household

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None

CONSENT = {
    "consent": {"signed": True, "signed_on": "2025-06-02", "holder": "贾家村委会"},
    "form": {"reason": "住院"},
}
J = dt.date


@pytest.mark.django_db
def test_scripted_month(personas):
    cadre, township, county = personas["cadre_a1"], personas["township_a"], personas["county_reviewer"]

    # --- discovery: three channels, one household, one lead ----------------------------------------
    hh1 = poor_exited_household()
    lead = leads.lead_submit(
        actor=cadre,
        household=hh1,
        channel="self_application",
        evidence=CONSENT,
        risk_types=["因病"],
        on=J(2025, 6, 2),
    )
    visit = visits.visit_log(
        actor=cadre,
        household=hh1,
        visited_on=J(2025, 6, 2),
        checklist=checklist(health="户主住院", income="收入下降"),
        has_risk=True,
        risk_types=["因病", "因务工就业不稳"],
    )
    screening_ref = "screening_run:31:rule:MED_EXITED_OOP"
    leads.lead_submit(
        actor=SYSTEM,
        household=hh1,
        channel="department_screening",
        source_ref=screening_ref,
        evidence={"oop_total": 18000},
        risk_types=["因病"],
        on=J(2025, 6, 2),
    )
    assert visit.lead_id == lead.pk
    lead.refresh_from_db()
    assert lead.sources.count() == 3 and lead.risk_types == ["因病", "因务工就业不稳"]
    assert Lead.objects.filter(household=hh1).count() == 1

    # --- identification, every step ---------------------------------------------------------------
    case = identification.case_open(actor=cadre, lead=lead, on=J(2025, 6, 2))
    cases.case_step_complete(
        actor=cadre, case=case, step="verify", on=J(2025, 6, 3), data={"findings": "属实"}
    )
    with pytest.raises(DomainError) as e:  # order is enforced
        cases.case_step_complete(actor=cadre, case=case, step="deliberate", on=J(2025, 6, 3), data={})
    assert e.value.code == cases.E_STEP_ORDER
    cases.case_step_complete(
        actor=cadre, case=case, step="compare", on=J(2025, 6, 4), data={"asset_red_flags": []}
    )
    with pytest.raises(DomainError) as e:
        cases.case_step_complete(
            actor=cadre,
            case=case,
            step="deliberate",
            on=J(2025, 6, 5),
            data={"attendance": 15, "votes_for": 6, "votes_against": 9},
        )
    assert e.value.code == steps.E_VOTE_FAILED
    cases.case_step_complete(
        actor=cadre,
        case=case,
        step="deliberate",
        on=J(2025, 6, 5),
        data={"meeting_on": "2025-06-05", "attendance": 15, "votes_for": 14, "votes_against": 1},
    )
    with pytest.raises(DomainError) as e:  # publicity: at least 5 days
        cases.case_step_complete(actor=cadre, case=case, step="publicize", on=J(2025, 6, 8))
    assert e.value.code == steps.E_PUBLICITY_SHORT and "不少于5天" in e.value.message
    cases.case_step_complete(actor=cadre, case=case, step="publicize", on=J(2025, 6, 10))
    with pytest.raises(PermissionDenied):  # a village cadre cannot review
        cases.case_step_complete(actor=cadre, case=case, step="township", on=J(2025, 6, 11))
    cases.case_step_complete(actor=township, case=case, step="township", on=J(2025, 6, 11))
    with pytest.raises(DomainError) as e:  # the township reviewer cannot also approve at county level
        extra = extra_user("both_levels", Role.COUNTY_REVIEWER, f.COUNTY)
        case.steps.filter(code="township").update(actor=extra)
        cases.case_step_complete(actor=extra, case=case, step="county", on=J(2025, 6, 12))
    assert e.value.code == cases.E_SELF_APPROVAL
    case.steps.filter(code="township").update(actor=township)
    cases.case_step_complete(actor=county, case=case, step="county", on=J(2025, 6, 12))
    case.refresh_from_db()
    obj1 = case.monitoring_object
    assert (
        case.status == "approved" and obj1.category == "脱贫不稳定户" and obj1.identified_on == J(2025, 6, 12)
    )
    assert obj1.risk_types == ["因病", "因务工就业不稳"]
    assert {p["key"] for p in obj1.decision["params"]} >= {
        "income.monitoring_line",
        "procedure.publicity_days",
        "procedure.step_days",
        "water.min_litres_per_day",
    }
    assert obj1.decision["verify"]["income"]["per_capita"] == "5000.00"
    lead.refresh_from_db()
    assert lead.status == "closed" and lead.outcome == "confirmed"
    assert LeadSource.objects.get(source_ref=screening_ref).outcome == "confirmed"
    assert selectors.lead_source_outcomes(actor=SYSTEM, source_ref_prefix="screening_run:31:") == {
        screening_ref: {"confirmed": 1}
    }

    # --- a second case: 突发 category, lead submitted by the county reviewer, an objection in 公示 ----
    hh2 = sudden_household()
    lead2 = leads.lead_submit(
        actor=county,
        household=hh2,
        channel="department_screening",
        source_ref="screening_run:31:rule:MED_OTHER",
        risk_types=["因病"],
        on=J(2025, 6, 2),
    )
    case2 = identification.case_open(actor=cadre, lead=lead2, on=J(2025, 6, 3))
    cases.case_step_complete(actor=cadre, case=case2, step="verify", on=J(2025, 6, 3))
    cases.case_step_complete(actor=cadre, case=case2, step="compare", on=J(2025, 6, 4))
    cases.case_step_complete(
        actor=cadre,
        case=case2,
        step="deliberate",
        on=J(2025, 6, 5),
        data={"attendance": 11, "votes_for": 11, "votes_against": 0},
    )
    cases.publicity_objection_record(
        actor=cadre,
        case=case2,
        text="该户在县城有商铺",
        raised_by="村民（匿名）",
        ref="appeal:77",
        on=J(2025, 6, 7),
    )
    with pytest.raises(DomainError) as e:
        cases.case_step_complete(actor=cadre, case=case2, step="publicize", on=J(2025, 6, 12))
    assert e.value.code == cases.E_CASE_PAUSED
    cases.case_resume(
        actor=township, case=case2, reason="经核实商铺为租用，异议不成立", ref="appeal:77", on=J(2025, 6, 9)
    )
    with pytest.raises(DomainError) as e:  # 2 paused days do not count: 6 - 2 = 4 < 5
        cases.case_step_complete(actor=cadre, case=case2, step="publicize", on=J(2025, 6, 11))
    assert e.value.code == steps.E_PUBLICITY_SHORT
    cases.case_step_complete(actor=cadre, case=case2, step="publicize", on=J(2025, 6, 12))
    cases.case_step_complete(actor=township, case=case2, step="township", on=J(2025, 6, 13))
    with pytest.raises(DomainError) as e:  # reported the lead → may not approve it
        cases.case_step_complete(actor=county, case=case2, step="county", on=J(2025, 6, 16))
    assert e.value.code == cases.E_SELF_APPROVAL
    cases.case_step_complete(actor=personas["county_admin"], case=case2, step="county", on=J(2025, 6, 16))
    case2.refresh_from_db()
    assert case2.monitoring_object.category == "突发严重困难户"
    assert case2.steps.get(code="publicize").data["objections"][0]["resolved"].startswith("经核实")

    # --- a rejection (不予纳入) in another village ---------------------------------------------------
    cadre2 = personas["cadre_a2"]
    hh3 = poor_exited_household(f.VILLAGE_A2)
    lead3 = leads.lead_submit(
        actor=cadre2,
        household=hh3,
        channel="self_application",
        evidence={"consent": {"signed": False}},
        risk_types=["因病"],
        on=J(2025, 6, 4),
    )
    case3 = identification.case_open(actor=cadre2, lead=lead3, on=J(2025, 6, 4))
    cases.case_step_complete(actor=cadre2, case=case3, step="verify", on=J(2025, 6, 5))
    with pytest.raises(DomainError) as e:
        cases.case_step_complete(
            actor=cadre2,
            case=case3,
            step="compare",
            on=J(2025, 6, 6),
            data={"exclusions": ["拥有非生产经营性车辆"]},
        )
    assert e.value.code == steps.E_EXCLUDED
    cases.case_reject(
        actor=cadre2, case=case3, reason="家庭拥有非生产经营性车辆（车管所比对）", on=J(2025, 6, 6)
    )
    lead3.refresh_from_db()
    assert lead3.outcome == "not_a_risk" and "不予纳入" in lead3.outcome_reason
    assert not MonitoringObject.objects.filter(household=hh3).exists()

    # --- overdue: a case left at 入户核查 surfaces to the township and the county ------------------------
    hh_idle = poor_exited_household()
    lead_idle = leads.lead_submit(actor=cadre, household=hh_idle, channel="other", on=J(2025, 6, 16))
    case_idle = identification.case_open(actor=cadre, lead=lead_idle, on=J(2025, 6, 16))
    late = selectors.overdue_by_township(actor=personas["county_admin"], on=J(2025, 6, 30))
    items = [i for i in late[f.TOWNSHIP_A] if i.case_id == case_idle.pk]
    assert {i.kind for i in items} == {"step"}  # verify due 3 working days later (06-19)
    later = selectors.overdue_items(actor=township, on=J(2025, 7, 15), include_visits=False)
    assert {(i.kind, i.case_id) for i in later} >= {("step", case_idle.pk), ("procedure", case_idle.pk)}
    assert (
        selectors.overdue_items(actor=personas["township_b"], on=J(2025, 7, 15), include_visits=False) == []
    )

    # --- assistance: helper, measures, warnings -------------------------------------------------------
    assistance.assignment_set(
        actor=township, household=hh1, user=personas["helper_a1"], kind="helper", on=J(2025, 6, 12)
    )
    warn = {w.code for w in selectors.case_warnings(actor=cadre, monitoring_object=obj1, on=J(2025, 7, 20))}
    assert {W.NO_MEASURE, W.RISK_UNMATCHED} <= warn and W.RISK_ILLNESS not in warn
    worker = hh1.persons.get(name="王小明")
    job = assistance.measure_add(
        actor=personas["helper_a1"],
        monitoring_object=obj1,
        name="就业",
        person=worker,
        start_on=J(2025, 6, 20),
        status="in_progress",
    )
    assistance.measure_add(
        actor=cadre,
        monitoring_object=obj1,
        name="医疗救助/医保补贴",
        start_on=J(2025, 6, 20),
        amount=3000,
        status="in_progress",
    )
    loan = assistance.measure_add(
        actor=cadre,
        monitoring_object=obj1,
        name="小额信贷",
        start_on=J(2025, 7, 1),
        end_on=J(2027, 6, 30),
        amount=50000,
        status="in_progress",
    )
    with pytest.raises(DomainError) as e:
        assistance.measure_add(actor=cadre, monitoring_object=obj1, name="发钱", start_on=J(2025, 7, 1))
    assert e.value.code == assistance.E_MEASURE_UNKNOWN
    assert selectors.case_warnings(actor=cadre, monitoring_object=obj1, on=J(2025, 7, 20)) == []

    # --- elimination: refused early, accepted after the minimum months -------------------------------
    with pytest.raises(DomainError) as e:
        elimination.elimination_propose(actor=cadre, monitoring_object=obj1, on=J(2025, 7, 15))
    assert e.value.code == rules.E_SAME_OR_NEXT_MONTH
    codes = {r["code"] for r in e.value.details["refusals"]}
    assert {rules.E_TOO_EARLY, rules.E_NO_MEASURE_DONE, rules.E_INCOME_UNSTABLE} <= codes
    assistance.measure_update(actor=cadre, measure=job, status="done", outcome="在县内务工，月收入3500元")
    f.income(hh1, year=2025, wage=36000)  # 12000 a head in 2025
    case_e = elimination.elimination_propose(actor=cadre, monitoring_object=obj1, on=J(2026, 1, 15))
    end = run_village_steps(case_e, cadre, start=J(2026, 1, 15), kind_has_compare=False)
    cases.case_step_complete(actor=township, case=case_e, step="township", on=end + dt.timedelta(days=1))
    cases.case_step_complete(actor=county, case=case_e, step="county", on=end + dt.timedelta(days=2))
    obj1.refresh_from_db()
    assert obj1.status == "eliminated" and obj1.elimination_method == "帮扶消除"
    assert obj1.gradual_exit_until == J(2027, 1, 23)  # 龙安区: 12-month 渐退期
    assert Measure.objects.get(pk=loan.pk).status == "in_progress"  # continues to its natural end
    assert Measure.objects.get(name="医疗救助/医保补贴", monitoring_object=obj1).status == "stopped"
    # still observed in the 渐退期: a key household, visited monthly
    due = {v.household_id: v for v in selectors.visits_due(actor=cadre, month=J(2026, 3, 1))}
    assert due[hh1.id].key and due[hh1.id].cycle_months == 1

    # --- reversal by county decision, and counting -------------------------------------------------
    with pytest.raises(PermissionDenied):
        elimination.elimination_reverse(actor=cadre, monitoring_object=obj1, reason="x", on=J(2026, 3, 2))
    elimination.elimination_reverse(
        actor=personas["county_admin"],
        monitoring_object=obj1,
        reason="回头看发现务工中断、收入不稳",
        on=J(2026, 3, 2),
    )
    obj1.refresh_from_db()
    assert obj1.status == "active" and obj1.reversals == 1 and obj1.eliminated_on is None
    assert obj1.decision["reversed"][0]["eliminated_on"] == "2026-01-23"
    assert selectors.exit_outcomes(actor=county, on=J(2026, 3, 2))["reversed"] == 1

    # --- the audit trail reconstructs each case --------------------------------------------------
    tl = selectors.case_timeline(actor=county, case=case)
    kinds = [r["kind"] for r in tl if r["source"] == "case"]
    assert kinds == ["open"] + ["step_done"] * 6 + ["approved"]
    assert [r["step"] for r in tl if r["kind"] == "step_done"] == [
        "verify",
        "compare",
        "deliberate",
        "publicize",
        "township",
        "county",
    ]
    other = [r["kind"] for r in tl if r["source"] != "case"]
    assert other.count("monitoring.lead_submit") == 3 and "monitoring.object_enrol" in other
    assert "monitoring.object_eliminate" in other and "monitoring.object_reverse" in other
    assert all(r["audit_hash"] for r in tl)
    tl2 = selectors.case_timeline(actor=county, case=case2)
    assert [r["kind"] for r in tl2 if r["source"] == "case"][4:7] == ["objection", "paused", "resumed"]
    assert audit_verify() == []

    # --- region scope for every role --------------------------------------------------------------
    seen = {
        name: set(selectors.case_list(actor=personas[name]).values_list("household_id", flat=True))
        for name in personas
    }
    a1 = {hh1.id, hh2.id, hh_idle.id}
    # a helper sees only the households assigned to them, not the whole village
    assert seen["cadre_a1"] == a1 and seen["helper_a1"] == {hh1.id}
    assert seen["cadre_a2"] == {hh3.id} and seen["township_a"] == a1 | {hh3.id}
    assert seen["cadre_b1"] == set() and seen["township_b"] == set() and seen["dept_yibao"] == set()
    assert seen["county_admin"] == seen["leader"] == seen["county_reviewer"] == a1 | {hh3.id}
    for getter, pk in (
        (selectors.case_get, {"case_id": case3.pk}),
        (selectors.lead_get, {"lead_id": lead3.pk}),
    ):
        with pytest.raises(NotFound):
            getter(actor=cadre, **pk)
    with pytest.raises(NotFound):
        cases.case_step_complete(actor=personas["cadre_b1"], case=case_idle, step="verify", on=J(2025, 7, 1))
    with pytest.raises(PermissionDenied):
        cases.case_step_complete(actor=personas["leader"], case=case_idle, step="verify", on=J(2025, 7, 1))
    assert not selectors.visit_list(actor=cadre2).exists() and selectors.visit_list(actor=cadre).count() == 1
    assert not selectors.lead_list(actor=personas["dept_yibao"]).exists()
    assert set(selectors.object_list(actor=cadre2)) == set()
