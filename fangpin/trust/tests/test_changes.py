import datetime as dt

import pytest
from django.forms.models import model_to_dict

from fangpin.core.errors import DomainError
from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person
from fangpin.registry.services.changes import household_update
from fangpin.testing import factories as f
from fangpin.trust.models import ChangeRequest, ChangeStatus
from fangpin.trust.services.changes import (
    change_request_approve,
    change_request_reject,
    change_request_submit,
    change_requests_bulk_approve,
)

EV = [{"path": "files/evidence/1.jpg", "description": "证明材料"}]
BOOKKEEPING = {
    "version",
    "updated_by",
    "updated_at",
    "created_at",
    "source_kind",
    "source_ref",
    "source_at",
    "effective_on",
}


def _snapshot():
    out = {}
    for entity, model in (("household", Household), ("person", Person), ("income", IncomeRecord)):
        for obj in model.objects.all():
            d = model_to_dict(obj)
            out[(entity, obj.pk)] = {k: v for k, v in d.items() if k not in BOOKKEEPING}
    return out


def _db_diff(before, after):
    from fangpin.registry.services.changes import fmt

    diff = set()
    for key, row in after.items():
        old = before.get(key)
        if old is None:
            continue
        for fld, v in row.items():
            if fmt(old[fld]) != fmt(v):
                diff.add((key[0], key[1], fld))
    return diff, [k for k in after if k not in before]


@pytest.mark.django_db
def test_phone_applies_at_once_income_waits_for_a_second_person(personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    cadre = personas["cadre_a1"]
    r = change_request_submit(
        actor=cadre,
        household_id=hh.pk,
        kind="contact",
        payload={"fields": {"phone": "13912345678"}},
        reason="户主换号",
        on=dt.date(2025, 6, 2),
    )
    assert r.status == ChangeStatus.APPLIED and r.required_level == "none"
    hh.refresh_from_db()
    assert hh.phone == "13912345678"
    assert r.applied_changes[0]["new"] == "139****5678"
    with pytest.raises(DomainError) as e:
        change_request_submit(
            actor=cadre,
            household_id=hh.pk,
            kind="income",
            payload={
                "period_start": "2024-01-01",
                "period_end": "2024-12-31",
                "components": {"wage": "9000"},
            },
            reason="年度收入",
            on=dt.date(2025, 6, 2),
        )
    assert e.value.code == "change_evidence_required"
    r2 = change_request_submit(
        actor=cadre,
        household_id=hh.pk,
        kind="income",
        evidence=EV,
        reason="年度收入",
        payload={"period_start": "2024-01-01", "period_end": "2024-12-31", "components": {"wage": "9000"}},
        on=dt.date(2025, 6, 2),
    )
    assert r2.status == ChangeStatus.PENDING and r2.required_level == "township"
    assert not IncomeRecord.objects.filter(household=hh).exists()
    with pytest.raises(DomainError) as e:
        change_request_approve(actor=cadre, request_id=r2.pk)  # village cadre: no approval right
    assert e.value.code == "permission_denied"
    with pytest.raises(DomainError):
        change_request_approve(actor=personas["township_b"], request_id=r2.pk)  # other township
    r2 = change_request_approve(actor=personas["township_a"], request_id=r2.pk, reason="凭证齐全")
    assert r2.status == ChangeStatus.APPLIED and r2.checker == personas["township_a"]
    assert IncomeRecord.objects.get(household=hh).wage == 9000


@pytest.mark.django_db
def test_maker_cannot_check_and_level_is_enforced(personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    ta = personas["township_a"]
    r = change_request_submit(
        actor=ta,
        household_id=hh.pk,
        kind="condition",
        evidence=EV,
        reason="鉴定",
        payload={"fields": {"house_grade": "D"}},
        on=dt.date(2025, 6, 2),
    )
    with pytest.raises(DomainError) as e:
        change_request_approve(actor=ta, request_id=r.pk)
    assert e.value.code == "self_approval"
    mv = change_request_submit(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="move",
        evidence=EV,
        reason="易地搬迁",
        payload={"to_village": f.VILLAGE_A2},
        on=dt.date(2025, 6, 2),
    )
    with pytest.raises(DomainError) as e:
        change_request_approve(actor=ta, request_id=mv.pk)
    assert e.value.code == "approval_level"
    change_request_reject(actor=personas["county_reviewer"], request_id=mv.pk, reason="搬迁尚未完成")
    assert ChangeRequest.objects.get(pk=mv.pk).status == ChangeStatus.REJECTED
    hh.refresh_from_db()
    assert hh.village_id == f.VILLAGE_A1


@pytest.mark.django_db
def test_stale_version_is_refused(personas):
    hh = f.household(f.VILLAGE_A1)
    household_update(
        actor=personas["cadre_a1"], household_id=hh.pk, changes={"address": "一组"}, expected_version=1
    )
    with pytest.raises(DomainError) as e:
        household_update(
            actor=personas["cadre_a1"], household_id=hh.pk, changes={"address": "二组"}, expected_version=1
        )
    assert e.value.code == "stale_version" and "已被他人修改" in e.value.message
    hh.refresh_from_db()
    assert hh.address == "一组" and hh.version == 2


@pytest.mark.django_db
def test_bulk_dry_run_lists_exactly_what_the_real_run_changes(personas):
    cadre, ta = personas["cadre_a1"], personas["township_a"]
    h1, h2, h3 = (f.household(v) for v in (f.VILLAGE_A1, f.VILLAGE_A1, f.VILLAGE_A2))
    p1 = f.person(h1)
    f.person(h1, name="李梅", gender="F", relation="配偶")
    p2 = f.person(h2, health="健康")
    f.person(h3)
    f.income(h3, year=2024, wage=5000)
    cadre_a2 = personas["cadre_a2"]
    reqs = [
        change_request_submit(
            actor=cadre,
            household_id=h1.pk,
            kind="member_remove",
            evidence=EV,
            reason="死亡",
            payload={"person_id": p1.pk, "kind": "death", "date": "2025-02-03"},
            on=dt.date(2025, 6, 2),
        ),
        change_request_submit(
            actor=cadre,
            household_id=h1.pk,
            kind="member_add",
            evidence=EV,
            reason="出生",
            payload={
                "kind": "birth",
                "date": "2025-03-01",
                "person": {"name": "张小宝", "gender": "M", "relation": "之孙子", "birth_date": "2025-03-01"},
            },
            on=dt.date(2025, 6, 2),
        ),
        change_request_submit(
            actor=cadre,
            household_id=h2.pk,
            kind="person",
            evidence=EV,
            reason="确诊",
            payload={"person_id": p2.pk, "fields": {"health": "患有大病", "chronic_disease": "尿毒症"}},
            on=dt.date(2025, 6, 2),
        ),
        change_request_submit(
            actor=cadre_a2,
            household_id=h3.pk,
            kind="income",
            evidence=EV,
            reason="年度收入",
            payload={
                "period_start": "2024-01-01",
                "period_end": "2024-12-31",
                "components": {"wage": "7200", "transfer_pension": "1200"},
            },
            on=dt.date(2025, 6, 2),
        ),
        change_request_submit(
            actor=ta,
            household_id=h2.pk,
            kind="condition",
            evidence=EV,
            reason="自己提交",
            payload={"fields": {"house_grade": "C"}},
            on=dt.date(2025, 6, 2),
        ),
    ]
    ids = [r.pk for r in reqs]
    before = _snapshot()
    dry = change_requests_bulk_approve(actor=ta, request_ids=ids, dry_run=True)
    assert _snapshot() == before  # the dry run wrote nothing
    assert Person.objects.count() == 4 and not MemberChange.objects.exists()
    assert all(r.status == ChangeStatus.PENDING for r in ChangeRequest.objects.all())
    refused = [i for i in dry.items if not i.ok]
    assert [(i.number, i.error_code) for i in refused] == [(reqs[4].number, "self_approval")]
    listed = dry.changes_by_household()
    assert {c["field"]: (c["old"], c["new"]) for c in listed[h2.household_no]} == {
        "health": ("健康", "患有大病"),
        "chronic_disease": ("", "尿毒症"),
    }
    assert next((c["old"], c["new"]) for c in listed[h3.household_no] if c["field"] == "wage") == (
        "5000",
        "7200",
    )

    real = change_requests_bulk_approve(actor=ta, request_ids=ids, dry_run=False, reason="批量审核")
    assert [(i.number, i.ok, i.changes) for i in real.items] == [
        (i.number, i.ok, i.changes) for i in dry.items
    ]
    after = _snapshot()
    diff, created = _db_diff(before, after)
    listed_existing = {
        (c["entity"], c["entity_id"], c["field"])
        for i in real.items
        if i.ok
        for c in i.changes
        if c["entity_id"] is not None and c["field"] != "member_count"
    }
    assert diff == listed_existing
    new_members = [c for i in real.items if i.ok for c in i.changes if c["entity_id"] is None]
    assert len(created) == len(new_members) == 1 and created[0][0] == "person"
    assert Person.objects.filter(household=h1, is_member=True).count() == 2  # one died, one born
    assert ChangeRequest.objects.get(pk=reqs[4].pk).status == ChangeStatus.PENDING


@pytest.mark.django_db
def test_a_field_change_takes_effect_on_the_day_it_was_filed_not_the_day_it_was_approved(personas):
    """A 鉴定 grade filed on 6 June and approved weeks later: the fact and the record's version hold from the
    filing date (business date), so the registry's history is keyed by when the fact took effect."""
    from fangpin.registry.models import FactProvenance

    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    filed = dt.date(2025, 6, 2)
    r = change_request_submit(
        actor=personas["township_a"],
        household_id=hh.pk,
        kind="condition",
        evidence=EV,
        reason="鉴定",
        payload={"fields": {"house_grade": "D"}},
        on=filed,
    )
    assert r.payload["date"] == filed.isoformat()
    change_request_approve(actor=personas["county_reviewer"], request_id=r.pk, reason="鉴定报告齐全")
    fact = FactProvenance.objects.get(
        entity="household", entity_id=hh.pk, field="house_grade", status="accepted"
    )
    assert fact.observed_on == filed
    version = hh.history.order_by("-history_id").first()  # the version the change wrote
    assert version.house_grade == "D" and version.effective_on == filed
