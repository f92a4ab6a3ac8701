import datetime as dt

import pytest

from fangpin.accounts.actors import system_actor
from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError, NotFound
from fangpin.registry.choices import MemberChangeKind, SourceKind
from fangpin.registry.models import FactProvenance, MemberChange, Person
from fangpin.registry.models.provenance import FactStatus
from fangpin.testing import factories as f
from fangpin.trust.models import Discrepancy, DiscrepancyStatus, Task, TaskKind, TaskStatus
from fangpin.trust.selectors import household_file, my_tasks
from fangpin.trust.services.provenance import (
    APPLIED,
    CONFIRMED,
    PENDING,
    REJECTED,
    discrepancy_resolve,
    fact_record,
)

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None

D = dt.date(2025, 3, 10)


def _dept_file(actor, rows):
    """A department file as the screening engine hands it over: one fact_record per (row, field)."""
    return [
        fact_record(
            actor=actor,
            household=hh,
            entity=e,
            entity_id=obj.pk,
            field=fld,
            value=v,
            source_kind=SourceKind.DEPARTMENT,
            source_ref=f"{dept} 批次#7 第{n}行",
            observed_on=D,
            on=D,
        )
        for n, (hh, e, obj, fld, v, dept) in enumerate(rows, start=2)
    ]


@pytest.mark.django_db
def test_department_file_contradicting_registry_gives_discrepancies_not_overwrites(personas):
    hh = f.household(f.VILLAGE_A1, source_kind=SourceKind.IMPORT, source_ref="导入文件#3 第10行")
    p = f.person(hh, medical_resident=True, health="健康", source_kind=SourceKind.IMPORT)
    q = f.person(hh, name="李四", medical_resident=True)
    out = _dept_file(
        personas["dept_yibao"],
        [
            (hh, "person", p, "medical_resident", "否", "医保"),  # contradicts
            (hh, "person", q, "medical_resident", "是", "医保"),  # agrees
            (hh, "person", p, "health", "患有大病", "卫健"),  # contradicts
        ],
    )
    assert [o.outcome for o in out] == [PENDING, CONFIRMED, PENDING]
    p.refresh_from_db()
    assert p.medical_resident is True and p.health == "健康"  # nothing overwritten
    discs = {d.field: d for d in Discrepancy.objects.filter(household=hh)}
    assert set(discs) == {"medical_resident", "health"}
    d = discs["medical_resident"]
    assert (d.registry_value, d.proposed_value, d.department) == ("是", "否", "医保")
    assert d.source_ref == "医保 批次#7 第2行" and "文件导入" in d.registry_source
    assert d.status == DiscrepancyStatus.OPEN
    # a verification task for the village cadre, visible in their list, not in another village's
    titles = [i.title for i in my_tasks(personas["cadre_a1"], on=D)]
    assert any("参加城乡居民基本医疗保险" in t and "医保" in t for t in titles)
    assert my_tasks(personas["cadre_a2"], on=D) == []
    # the household file shows the registry value with its source and the pending alternative
    hf = household_file(actor=personas["cadre_a1"], household_id=hh.pk)
    view = next(
        v
        for m in hf["members"]
        if m["person"].pk == p.pk
        for v in m["fields"]
        if v.field == "medical_resident"
    )
    assert view.value == "是" and view.source == "文件导入"
    assert view.pending[0]["value"] == "否" and view.pending[0]["source"] == "医保"
    # the same department value next month does not open a second discrepancy
    again = _dept_file(personas["dept_yibao"], [(hh, "person", p, "medical_resident", "否", "医保")])
    assert again[0].discrepancy.pk == d.pk and Discrepancy.objects.filter(household=hh).count() == 2


@pytest.mark.django_db
def test_resolving_a_discrepancy_applies_or_discards(personas):
    hh = f.household(f.VILLAGE_A1)
    p = f.person(hh, medical_resident=True)
    [o] = _dept_file(SYSTEM, [(hh, "person", p, "medical_resident", "否", "医保")])
    with pytest.raises(NotFound):
        discrepancy_resolve(
            actor=personas["cadre_a2"], discrepancy_id=o.discrepancy.pk, accept=True, reason="核实"
        )
    d = discrepancy_resolve(
        actor=personas["cadre_a1"], discrepancy_id=o.discrepancy.pk, accept=True, reason="入户核实：已断缴"
    )
    p.refresh_from_db()
    assert p.medical_resident is False and d.status == DiscrepancyStatus.ACCEPTED
    assert Task.objects.get(ref_type="discrepancy", ref_id=d.pk).status == TaskStatus.DONE
    hf = household_file(actor=personas["cadre_a1"], household_id=hh.pk)
    view = next(v for m in hf["members"] for v in m["fields"] if v.field == "medical_resident")
    assert (view.value, view.source, view.since) == ("否", "部门数据", D.isoformat())
    assert view.source_ref == "医保 批次#7 第2行"
    with pytest.raises(DomainError) as e:
        discrepancy_resolve(actor=personas["cadre_a1"], discrepancy_id=d.pk, accept=False, reason="再次处理")
    assert e.value.code == "discrepancy_resolved"
    # reject: the registry value stays, the department fact is marked not used
    p2 = f.person(hh, name="王五", health="健康")
    [o2] = _dept_file(SYSTEM, [(hh, "person", p2, "health", "患有大病", "卫健")])
    discrepancy_resolve(
        actor=personas["cadre_a1"],
        discrepancy_id=o2.discrepancy.pk,
        accept=False,
        reason="入户核实：诊断有误",
    )
    p2.refresh_from_db()
    assert p2.health == "健康"
    assert FactProvenance.objects.get(pk=o2.fact.pk).status == FactStatus.REJECTED
    assert AuditEvent.objects.filter(event_type="trust.discrepancy_resolve").count() == 2


@pytest.mark.django_db
def test_police_death_beats_self_declaration_in_both_orders(personas):
    hh = f.household(f.VILLAGE_A1)
    head = f.person(hh)
    wife = f.person(hh, name="王芳", gender="F", relation="配偶", source_kind=SourceKind.DECLARED)
    # 1) self-declared alive first (row source), then 公安 reports death → applied by policy, visibly
    o = fact_record(
        actor=SYSTEM,
        household=hh,
        entity="person",
        entity_id=wife.pk,
        field="death_date",
        value="2025-02-01",
        source_kind=SourceKind.DEPARTMENT,
        source_ref="公安 户籍注销 批次#2 第5行",
        observed_on=D,
        on=D,
    )
    assert o.outcome == APPLIED
    wife.refresh_from_db()
    assert wife.death_date == dt.date(2025, 2, 1) and wife.is_member is False
    assert MemberChange.objects.filter(person=wife, kind=MemberChangeKind.DEATH).count() == 1
    assert o.discrepancy.status == DiscrepancyStatus.APPLIED_BY_POLICY
    assert o.discrepancy.registry_value == "" and "公安" in o.discrepancy.policy_rule
    # 2) afterwards the family declares her alive → rejected by the policy, registry unchanged
    o2 = fact_record(
        actor=personas["cadre_a1"],
        household=hh,
        entity="person",
        entity_id=wife.pk,
        field="death_date",
        value="",
        source_kind=SourceKind.DECLARED,
        source_ref="家属口头申报",
        observed_on=D,
        on=D,
    )
    assert o2.outcome == REJECTED and o2.fact.status == FactStatus.REJECTED
    wife.refresh_from_db()
    assert wife.death_date == dt.date(2025, 2, 1)
    # 3) the other order for the head: 公安 death recorded, then a conflicting self-declared date
    fact_record(
        actor=SYSTEM,
        household=hh,
        entity="person",
        entity_id=head.pk,
        field="death_date",
        value="2025-01-20",
        source_kind=SourceKind.DEPARTMENT,
        source_ref="公安 批次#2 第6行",
        observed_on=D,
        on=D,
    )
    o3 = fact_record(
        actor=SYSTEM,
        household=hh,
        entity="person",
        entity_id=head.pk,
        field="death_date",
        value="2025-01-25",
        source_kind=SourceKind.DECLARED,
        source_ref="申报",
        observed_on=D,
        on=D,
    )
    assert o3.outcome == REJECTED
    assert Person.objects.get(pk=head.pk).death_date == dt.date(2025, 1, 20)


@pytest.mark.django_db
def test_housing_rating_beats_cadre_opinion_and_unlisted_departments_wait(personas):
    hh = f.household(f.VILLAGE_A1, house_grade="B")
    o = fact_record(
        actor=SYSTEM,
        household=hh,
        entity="household",
        entity_id=hh.pk,
        field="house_grade",
        value="C",
        source_kind=SourceKind.DEPARTMENT,
        source_ref="住建 鉴定批次#1 第3行",
        observed_on=D,
        on=D,
    )
    assert o.outcome == APPLIED
    hh.refresh_from_db()
    assert hh.house_grade == "C" and hh.version == 2
    o2 = fact_record(
        actor=personas["cadre_a1"],
        household=hh,
        entity="household",
        entity_id=hh.pk,
        field="house_grade",
        value="B",
        source_kind=SourceKind.VISIT,
        source_ref="走访",
        observed_on=D,
        on=D,
    )
    assert o2.outcome == REJECTED
    hh.refresh_from_db()
    assert hh.house_grade == "C"
    # a cadre's visit on a field without a department authority applies (visit outranks import)
    o3 = fact_record(
        actor=personas["cadre_a1"],
        household=hh,
        entity="household",
        entity_id=hh.pk,
        field="water_piped",
        value="否",
        source_kind=SourceKind.VISIT,
        source_ref="走访记录",
        observed_on=D,
        on=D,
    )
    assert o3.outcome == APPLIED
    # a department and a scope check: cadre of another village cannot record facts here
    with pytest.raises(NotFound):
        fact_record(
            actor=personas["cadre_b1"],
            household=hh,
            entity="household",
            entity_id=hh.pk,
            field="phone",
            value="13800000000",
            source_kind=SourceKind.VISIT,
            source_ref="x",
            observed_on=D,
            on=D,
        )
    assert Task.objects.filter(kind=TaskKind.DISCREPANCY).count() == 0
