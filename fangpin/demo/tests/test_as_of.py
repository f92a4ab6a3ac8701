"""The demo data reaches its cut-off: income up to the month before as_of, and a scripted month on a
fresh demo slice meets every step of the lifecycle (leads from three channels, identification,
enrolment, measures, 风险消除, 风险消除回退) through the services."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from fangpin.audit.record import audit_verify
from fangpin.demo.generator import county_plan, iter_villages, rural_villages_from_csv
from fangpin.demo.generator.params import gen_params_from_defaults
from fangpin.demo.models import PlantedDefect
from fangpin.demo.services.load import demo_county_generate
from fangpin.registry.checks import codes as C
from fangpin.registry.models import Household, IncomeRecord
from fangpin.registry.services.assessment import household_income_assess
from fangpin.testing import factories as f

SLICE = [f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1]


def test_generator_writes_the_current_year_up_to_the_month_before_as_of():
    as_of = dt.date(2026, 11, 23)
    params = gen_params_from_defaults("410506", as_of)
    villages = rural_villages_from_csv("410506")
    specs = [s for s in county_plan("410506", seed=0, villages=villages) if s.code in SLICE]
    vs = list(iter_villages(specs, lambda _c: params, seed=0))
    by_hh: dict[str, list] = {}
    for v in vs:
        for r in v.incomes:
            by_hh.setdefault(r["household_no"], []).append(r)
    assert by_hh
    for recs in by_hh.values():
        periods = [(r["period_start"], r["period_end"]) for r in recs]
        assert periods[-1] == (dt.date(2026, 1, 1), dt.date(2026, 10, 31))
        assert [p[0].year for p in periods] == [2021, 2022, 2023, 2024, 2025, 2026]
    # January: the previous complete year already ends the window, no partial record
    jan = gen_params_from_defaults("410506", dt.date(2027, 1, 10))
    v = next(iter_villages(specs[:1], lambda _c: jan, seed=0))
    assert {r["period_start"].year for r in v.incomes} == {2022, 2023, 2024, 2025, 2026}
    assert all(r["period_end"].month == 12 for r in v.incomes)


def test_the_current_year_leaves_the_complete_years_as_drawn(monkeypatch):
    """The current year (and the outlook at as_of) come from their own stream: without them the complete
    years are the same, except the years a recovering object's income was redrawn above the line and
    last year's hospital bills of a household the department screening will flag."""
    from fangpin.demo.generator import income as I
    from fangpin.demo.generator import village as V

    as_of = dt.date(2026, 11, 23)
    params = gen_params_from_defaults("410506", as_of)
    specs = county_plan("410506", seed=0, villages=rural_villages_from_csv("410506"))[10:25]
    full = list(iter_villages(specs, lambda _c: params, seed=0))
    outlooks: dict[str, str] = {}
    real_extend = I.IncomePlan.extend_to_as_of

    def spy(self, rng, hh, members, p, mon):
        real_extend(self, rng, hh, members, p, mon)
        outlooks[hh["household_no"]] = self.outlook

    monkeypatch.setattr(I.IncomePlan, "extend_to_as_of", spy)
    assert [v.incomes for v in iter_villages(specs, lambda _c: params, seed=0)] == [v.incomes for v in full]
    monkeypatch.setattr(I.IncomePlan, "extend_to_as_of", lambda self, *a: None)
    real_records = V.incomes_of_villages
    monkeypatch.setattr(
        V, "incomes_of_villages", lambda vs, p: real_records([(y, None, *rest) for y, _a, *rest in vs], p)
    )
    bare = list(iter_villages(specs, lambda _c: params, seed=0))
    changed = Counter()
    for a, b in zip(full, bare, strict=True):
        complete = [r for r in a.incomes if r["period_start"].year < 2026]
        assert len(complete) == len(b.incomes) and a.persons == b.persons
        for x, y in zip(complete, b.incomes, strict=True):
            if x != y:
                changed[outlooks[x["household_no"]]] += 1
    assert set(changed) == {I.RECOVERING, I.NEW_ILLNESS}, changed
    assert sum(changed.values()) < 0.02 * sum(len(v.incomes) for v in full)


@pytest.mark.django_db
def test_household_file_window_at_the_cut_off_is_fully_covered(personas):
    as_of = dt.date(2026, 11, 23)
    demo_county_generate(
        actor=personas["county_admin"],
        county="410506",
        seed=3,
        as_of=as_of,
        villages=SLICE,
        households_per_village=30,
    )
    assert IncomeRecord.objects.filter(
        period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 10, 31)
    ).count() == (Household.objects.count())
    from fangpin.monitoring.models import MonitoringObject

    monitored = set(MonitoringObject.objects.values_list("household_id", flat=True))
    planted_under = set(
        PlantedDefect.objects.filter(code=C.EXITED_UNDER_LINE).values_list("household_no", flat=True)
    )
    under = []
    for hh in Household.objects.all():
        a = household_income_assess(hh, month=dt.date(2026, 11, 1))
        assert a.result.months_covered == 12 and a.result.warnings == [], (hh.household_no, a.result.warnings)
        assert (a.result.window_start, a.result.window_end) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
        if a.below_line and hh.id not in monitored:
            under.append(hh)
    # consistent with the trajectory: a household not monitored is under the line over the last 12
    # months only if it lost its work income this year (or carries the planted last-year defect)
    notes = {r.household_id: r.note for r in IncomeRecord.objects.filter(period_start=dt.date(2026, 1, 1))}
    for hh in under:
        assert notes[hh.id] == "今年务工中断，收入下降" or hh.household_no in planted_under, hh.household_no


@pytest.mark.django_db
def test_scripted_month_on_a_fresh_demo_slice_meets_every_step(personas):
    from fangpin.demo.simulate import scripted_month
    from fangpin.monitoring.models import Case, CaseStatus, LeadSource, Measure, MonitoringObject

    res = demo_county_generate(
        actor=personas["county_admin"],
        county="410506",
        seed=88,  # a slice whose history has relapses and new risks at as_of
        as_of=dt.date(2026, 6, 15),
        villages=SLICE,
        households_per_village=60,
    )
    assert res.enrolled == res.dataset.monitoring.count() and not res.enrol_errors
    # objects identified long enough ago have measures carried out, with their dates
    done = Measure.objects.filter(status="done")
    assert done.exists() and not done.filter(end_on=None).exists()
    assert all(m.start_on < m.end_on < dt.date(2026, 6, 15) for m in done)
    before = dict(MonitoringObject.objects.values_list("id", "status"))

    rep = scripted_month(county="410506", month=dt.date(2026, 6, 1))

    # leads from the three channels (new leads, not only reports on already monitored households)
    for channel in ("cadre_visit", "self_application", "department_screening"):
        assert rep.leads_by_channel[channel] >= 1, (channel, rep.lines())
    june = LeadSource.objects.filter(submitted_on__gte=dt.date(2026, 6, 1))
    assert {"cadre_visit", "self_application", "department_screening"} <= set(
        june.values_list("channel", flat=True)
    )
    _department_leads_come_from_the_run(rep, june.filter(channel="department_screening"))
    # identification through every step, enrolment and a plan of measures
    ident = Case.objects.filter(kind="identification", started_on__gte=dt.date(2026, 6, 1))
    approved = ident.filter(status=CaseStatus.APPROVED)
    assert approved.exists() and ident.filter(status=CaseStatus.REJECTED).exists()
    for case in approved:
        steps = list(case.steps.order_by("seq").values_list("code", "status"))
        assert steps == [
            (s, "done") for s in ("verify", "compare", "deliberate", "publicize", "township", "county")
        ]
    new_objects = MonitoringObject.objects.filter(origin="procedure", identified_on__gte=dt.date(2026, 6, 1))
    assert new_objects.count() == sum(rep.enrolled_by_category.values()) >= 1
    assert all(o.measures.exists() for o in new_objects) and rep.measures >= 1
    # 风险消除 of objects loaded from the national data, and 风险消除回退 of one in its 渐退期
    elim = Case.objects.filter(kind="elimination", status=CaseStatus.APPROVED)
    assert rep.eliminated == elim.count() >= 1
    for case in elim:
        obj = case.monitoring_object
        assert before[obj.id] == "active" and obj.status == "eliminated" and obj.eliminated_on.month == 6
    rev = Case.objects.filter(kind="reversal", status=CaseStatus.APPROVED)
    assert rep.reversed == rev.count() >= 1
    for case in rev:
        obj = case.monitoring_object
        assert before[obj.id] == "eliminated" and obj.status == "active" and obj.reversals == 1
        assert case.facts["verify"]["income"]["below_line_after_rigid"] is True
    assert rep.refusals["elimination_income_unstable"] >= 1  # the guards still refuse the others
    assert audit_verify() == []


def _department_leads_come_from_the_run(rep, dept_sources) -> None:
    """部门筛查预警 in the scripted month is a real ScreeningRun over the uploaded department batches: every
    department lead points at it and at a hit with its evidence; the planted events are found."""
    from fangpin.policy.params import param_value
    from fangpin.screening.models import DeptBatch, ScreeningHit, ScreeningRun

    run = ScreeningRun.objects.get(pk=rep.screening["run"])
    assert run.status == "done" and run.engine == "duckdb" and run.month == "2026-06"
    kinds = {b["kind"] for b in run.batches}
    assert {"medical", "hrss"} <= kinds
    assert set(DeptBatch.objects.filter(period="2026-06").values_list("kind", flat=True)) == kinds
    assert all(b.uploaded_by.role == "dept_officer" for b in DeptBatch.objects.filter(period="2026-06"))
    hits = ScreeningHit.objects.filter(run=run)
    assert hits.count() == run.counts["hits"] == rep.screening["hits"] >= 1
    assert sum(run.counts["leads_per_rule"].values()) >= rep.leads_by_channel["department_screening"]
    for src in dept_sources:
        code = src.source_ref.removeprefix(f"screening_run:{run.pk}:rule:")
        assert code != src.source_ref, src.source_ref  # every department lead comes from this run
        hit = hits.filter(lead_id=src.lead_id, rule_code=code).first()
        assert hit is not None and hit.evidence["record"]["batch_id"] in {b["id"] for b in run.batches}
        assert src.evidence["rule"] == code and src.submitted_on > dt.date(2026, 6, 1)
    # the answer key: every planted stay at or above the county's threshold, every unemployed main earner
    events = rep.screening["events"]
    line = float(param_value("screening.medical.exited_annual_oop", region_code="410506000000", year=2026))
    ill = {e["household_id"] for e in events if e["story"] == "hospital_again" and e["amount"] >= line}
    jobless = {e["household_id"] for e in events if e["story"] == "unemployed"}
    assert ill, events  # (the slice may have no household that lost its work: jobless may be empty)
    found = lambda code: set(hits.filter(rule_code=code).values_list("household_id", flat=True))  # noqa: E731
    assert ill <= found("MED_EXITED_YTD_OOP") and jobless <= found("HRSS_EARNER_UNEMPLOYED")
    near = {e["household_id"] for e in events if e["story"] == "hospital_again" and e["amount"] < line}
    assert not near & found("MED_EXITED_YTD_OOP")


@pytest.mark.django_db
def test_a_history_reaching_back_to_2020_has_a_monitoring_line_every_year():
    """as_of 2025 means income years 2020-2025; 2020 predates the 2021 national floor and uses the
    2019-2020 provincial-practice line from the defaults (a DB lookup, as demo_county does)."""
    from fangpin.demo.generator.params import gen_params_from_db

    p = gen_params_from_db("410506", dt.date(2025, 6, 30))
    assert sorted(p.lines) == [2020, 2021, 2022, 2023, 2024, 2025]
    assert p.lines[2020] == 5000 and p.lines[2021] == 6000


def test_the_generators_business_date_is_never_defaulted(tmp_path):
    """``as_of`` is given by the edge (the commands default it to today), never read from the clock."""
    from fangpin.demo.generator import generate_parquet
    from fangpin.demo.services.load import demo_county_generate

    with pytest.raises(TypeError):
        generate_parquet("410506", persons=10, out=tmp_path)
    with pytest.raises(TypeError):
        demo_county_generate(actor=None, county="410506")
