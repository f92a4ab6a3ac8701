"""Department facts meet the registry through trust's conflict policy; asset comparisons need consent.

Issue 10 "Done means": a department file that contradicts the registry produces discrepancies with
sources shown, not overwrites; a death recorded by 公安 and a conflicting self-declaration resolve by the
policy; department comparisons for a household that has not signed are flagged, not run silently."""

from __future__ import annotations

import copy
import datetime as dt

import polars as pl
import pytest

from fangpin.accounts.actors import system_actor
from fangpin.monitoring.models import Lead
from fangpin.policy.params import param_value, parameter_set
from fangpin.registry.choices import MemberChangeKind, SourceKind
from fangpin.registry.models import FactProvenance, Household, MemberChange, Person
from fangpin.registry.models.provenance import FactStatus
from fangpin.screening.models import DeptBatch, ScreeningHit
from fangpin.screening.protect import read_revealed
from fangpin.screening.selectors import hit_list, hit_rates
from fangpin.screening.services.runs import screening_run_start
from fangpin.screening.services.uploads import batch_abspath
from fangpin.trust.models import Discrepancy, DiscrepancyStatus, Task, TaskKind
from fangpin.trust.selectors import household_file
from fangpin.trust.services.consent import consent_record
from fangpin.trust.services.provenance import REJECTED, fact_record

from .test_month_end_to_end import MONTH, _setup

RUN_ON = dt.date(2025, 6, 30)  # the runs' business date: the end of the screened month

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None


def _row_no(kind: str, name: str) -> int:
    b = DeptBatch.objects.get(kind=kind, period=MONTH)
    df = read_revealed(batch_abspath(b))
    return int(df.filter(pl.col("name") == name)["row_no"][0])


def _houses_need_verification(admin) -> None:
    """This county's written policy: a 住建 grade is checked by the village before it replaces the file's."""
    policy = copy.deepcopy(param_value("trust.conflict_policy", region_code="410506", year=2025))
    policy["fields"]["household.house_grade"]["apply"] = []
    policy["fields"]["household.house_grade"]["rule"] = "住建鉴定等级经村干部核实后采用"
    parameter_set(
        actor=admin, key="trust.conflict_policy", value=policy, year=2025, basis="测试：住建等级需核实"
    )


@pytest.mark.django_db
def test_department_facts_apply_or_become_discrepancies_by_policy(tmp_path, personas, officer, monitored):
    gen = _setup(tmp_path, personas, officer, monitored)
    admin = personas["county_admin"]
    _houses_need_verification(admin)
    planted = {p.rule: p for p in gen.planted}
    dead = Person.objects.get(pk=planted["POL_DEATH_ONLY_LABOURER"].person_id)
    # the family had declared the person alive at the last visit (the registry's value, from 申报)
    declared = fact_record(
        actor=SYSTEM, household=dead.household, entity="person", entity_id=dead.pk, field="death_date", value="",
        source_kind=SourceKind.DECLARED, source_ref="农户申报 2025年5月", observed_on=dt.date(2025, 5, 20), on=dt.date(2025, 6, 2),
    )  # fmt: skip
    assert declared.fact.status == FactStatus.ACCEPTED
    house = Household.objects.get(persons__pk=planted["HOUSE_UNSAFE"].person_id)
    assert house.house_grade == ""
    discs_before = Discrepancy.objects.count()

    run = screening_run_start(actor=admin, month=MONTH, on=RUN_ON)
    run.refresh_from_db()
    facts = run.counts["facts"]

    # 公安 death: applied by the policy, the member removed with a death MemberChange, source shown
    dead.refresh_from_db()
    assert dead.is_member is False and dead.death_date == dt.date(2025, 6, 11)
    police = DeptBatch.objects.get(kind="police", period=MONTH)
    ref = f"公安 批次#{police.pk} 第{_row_no('police', dead.name)}行"
    change = MemberChange.objects.get(person=dead)
    assert change.kind == MemberChangeKind.DEATH and change.source_ref == ref
    d = Discrepancy.objects.get(entity="person", entity_id=dead.pk, field="death_date")
    assert d.status == DiscrepancyStatus.APPLIED_BY_POLICY and d.department == "公安" and d.source_ref == ref
    assert "农户申报" in d.registry_source and d.proposed_value == "2025-06-11"
    hf = household_file(actor=admin, household_id=dead.household_id)
    view = next(
        v for m in hf["members"] if m["person"].pk == dead.pk for v in m["fields"] if v.field == "death_date"
    )
    assert (view.value, view.source_ref) == ("2025-06-11", ref)
    # a later self-declaration that contradicts 公安 is rejected by the same policy
    again = fact_record(
        actor=SYSTEM, household=dead.household, entity="person", entity_id=dead.pk, field="death_date", value="",
        source_kind=SourceKind.DECLARED, source_ref="农户申报 2025年7月", observed_on=dt.date(2025, 7, 2), on=dt.date(2025, 6, 2),
    )  # fmt: skip
    assert again.outcome == REJECTED
    dead.refresh_from_db()
    assert dead.death_date == dt.date(2025, 6, 11)

    # 住建 grade D contradicts the file: with this county's policy a discrepancy + task, not an overwrite
    house.refresh_from_db()
    assert house.house_grade == ""
    hd = Discrepancy.objects.get(entity="household", entity_id=house.pk, field="house_grade")
    assert hd.status == DiscrepancyStatus.OPEN and (hd.registry_value, hd.proposed_value) == ("", "D")
    housing = DeptBatch.objects.get(kind="housing", period=MONTH)
    assert hd.department == "住建" and hd.source_ref.startswith(f"住建 批次#{housing.pk} 第")
    assert Task.objects.filter(kind=TaskKind.DISCREPANCY, ref_id=hd.pk).exists()
    # 残联 certificate (grade 2, via a 20-character 残疾人证 number): applied, 残联 has priority
    disabled = Person.objects.get(pk=planted["DIS_NEW_SEVERE"].person_id)
    assert (disabled.disability_category, disabled.disability_grade) == ("4", 2)
    # a dropout matched only by probabilistic linkage is never applied: pending, marked as such
    pupil = Person.objects.get(pk=planted["EDU_DROPOUT"].person_id)
    assert pupil.out_of_school is False
    ed = Discrepancy.objects.get(entity="person", entity_id=pupil.pk, field="out_of_school")
    assert ed.status == DiscrepancyStatus.OPEN and ed.department == "教育（概率匹配）"
    assert "概率匹配 p=" in ed.source_ref

    # the run report counts them
    assert facts["differing"] >= facts["recorded"] == facts["applied"] + facts["pending"] > 0
    assert facts["by_field"]["person.death_date:applied"] == 2  # the only labourer and the near miss
    assert facts["by_field"]["household.house_grade:pending"] == 2  # grade D and the near-miss grade B
    assert facts["by_field"]["person.out_of_school:pending"] == 1
    assert run.counts["departments"]["police"]["facts_differing"] == 2
    opened = Discrepancy.objects.count() - discs_before
    assert opened == facts["recorded"]

    # a repeated run screens nothing twice: no hit, no fact recorded, no second discrepancy
    run2 = screening_run_start(actor=admin, month=MONTH, on=RUN_ON)
    run2.refresh_from_db()
    assert Discrepancy.objects.count() - discs_before == opened
    assert run2.counts["facts"]["recorded"] == 0 and run2.counts["hits"] == 0
    assert run2.counts["batches_new"] == [] and not ScreeningHit.objects.filter(run=run2).exists()
    assert FactProvenance.objects.filter(source_ref__startswith="住建").count() == 2


@pytest.mark.django_db
def test_asset_hits_without_consent_are_flagged_not_leads(tmp_path, personas, officer, monitored):
    gen = _setup(tmp_path, personas, officer, monitored)
    admin = personas["county_admin"]
    asset = next(p for p in gen.planted if p.rule == "ASSET_MONITORED")
    hh_id = Person.objects.get(pk=asset.person_id).household_id
    # a 授权书 for another scope (property) does not cover a vehicle registration
    consent_record(
        actor=admin, household_id=hh_id, signed_on=dt.date(2025, 1, 5), signed_by_name="户主",
        scope=["property"], paper_holder="村委会档案柜",
    )  # fmt: skip
    run = screening_run_start(actor=admin, month=MONTH, record_facts=False, on=RUN_ON)
    run.refresh_from_db()
    h = ScreeningHit.objects.get(run=run, rule_code="ASSET_MONITORED")
    assert h.consent_missing and h.lead_id is None and h.lead_result == "consent_missing"
    assert h.evidence["consent"]["scope"] == "assets"
    assert run.counts["consent_missing_per_rule"] == {"ASSET_MONITORED": 1}
    assert run.counts["leads_per_rule"]["ASSET_MONITORED"] == 0
    assert not Lead.objects.filter(
        household_id=hh_id, sources__source_ref__contains="ASSET_MONITORED"
    ).exists()
    # medical, death, disability … need no consent: their leads went out
    med = {Person.objects.get(pk=p.person_id).household_id for p in gen.planted if p.rule == "MED_STAY_OTHER"}
    assert run.counts["leads_per_rule"]["MED_STAY_OTHER"] == len(med) > 0
    # the county sees the flagged item; the village cadre does not get it as work
    assert hit_list(actor=admin, run_id=run.pk, consent_missing=True).get().pk == h.pk
    village = Household.objects.get(pk=hh_id).village_id
    cadre = {"410506205201": "cadre_a1", "410506205202": "cadre_a2", "410506100201": "cadre_b1"}[village]
    assert not hit_list(actor=personas[cadre], run_id=run.pk).filter(pk=h.pk).exists()
    row = next(r for r in hit_rates(actor=admin)["by_rule"] if r["rule_code"] == "ASSET_MONITORED")
    assert row["consent_missing"] == 1 and row["leads"] == 0

    # once the household signs for vehicles, the same comparison becomes a lead
    consent_record(
        actor=admin, household_id=hh_id, signed_on=dt.date(2025, 7, 1), signed_by_name="户主",
        scope=["vehicles"], paper_holder="村委会档案柜",
    )  # fmt: skip
    run2 = screening_run_start(actor=admin, month=MONTH, record_facts=False, on=dt.date(2025, 7, 2))
    h2 = ScreeningHit.objects.get(run=run2, rule_code="ASSET_MONITORED")
    assert not h2.consent_missing and h2.lead_id and h2.lead_result == "submitted"
