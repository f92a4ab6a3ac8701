import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import NotFound
from fangpin.registry import selectors as reg_sel
from fangpin.registry.choices import HouseholdStatus
from fangpin.registry.models import Household, MemberChange
from fangpin.testing import factories as f
from fangpin.trust.models import Task, TaskKind
from fangpin.trust.selectors import appeal_list, change_request_list, household_file, my_tasks
from fangpin.trust.services.appeals import appeal_lodge
from fangpin.trust.services.changes import change_request_approve, change_request_submit

EV = [{"path": "files/evidence/move.pdf", "description": "搬迁协议"}]


def _trust(items):
    """my_tasks items of this part (monitoring adds visits and case steps when it is installed)."""
    return [i for i in items if not i.kind.startswith(("visit", "case_"))]


@pytest.mark.django_db
def test_move_to_another_township_keeps_history_and_leaves_old_cadre_lists(personas):
    cadre_a1, cadre_b1 = personas["cadre_a1"], personas["cadre_b1"]
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    # past: a decided change request and a decided appeal in village A1, and an open task
    past = change_request_submit(
        actor=cadre_a1,
        household_id=hh.pk,
        kind="contact",
        payload={"fields": {"phone": "13700000001"}},
        reason="换号",
        on=dt.date(2025, 6, 2),
    )
    old_appeal = appeal_lodge(
        actor=cadre_a1,
        household_id=hh.pk,
        kind="wrong_fact",
        content="户主电话登记错误",
        lodged_by_name="张三",
        lodged_on=dt.date(2025, 6, 2),
    )
    Task.objects.create(kind=TaskKind.RECERT, household=hh, title="定期复核", due_on=dt.date(2025, 1, 1))
    move = change_request_submit(
        actor=cadre_a1,
        household_id=hh.pk,
        kind="move",
        evidence=EV,
        reason="易地扶贫搬迁",
        payload={"to_village": f.VILLAGE_B1, "date": "2025-04-01"},
        on=dt.date(2025, 6, 2),
    )
    moved_on = dt.date.today()
    change_request_approve(actor=personas["county_admin"], request_id=move.pk, reason="搬迁入住")
    hh.refresh_from_db()
    assert hh.village_id == f.VILLAGE_B1
    # the old village cadre no longer sees it in lists, nor by id
    assert hh not in reg_sel.household_list(actor=cadre_a1)
    with pytest.raises(NotFound):
        household_file(actor=cadre_a1, household_id=hh.pk)
    assert hh in reg_sel.household_list(actor=cadre_b1)
    # its open work follows it; its decided past stays in A1
    assert [t.title for t in _trust(my_tasks(cadre_b1, on=moved_on))] == ["定期复核"]
    assert my_tasks(cadre_a1, on=moved_on) == []  # nothing at all left in A1, monitoring visits included
    assert past in change_request_list(actor=cadre_a1, status=None)
    assert past not in change_request_list(actor=cadre_b1, status=None)
    assert old_appeal in appeal_list(actor=cadre_b1)  # still open → new village handles it
    # full history: the row as it was, the audit trail at the old village, the move reason
    versions = list(hh.history.order_by("history_date").values_list("village_id", flat=True))
    assert versions[0] == f.VILLAGE_A1 and versions[-1] == f.VILLAGE_B1
    assert hh.history.first().history_change_reason.startswith("迁移 410506205201→410506100201")
    assert AuditEvent.objects.filter(
        household_id=hh.pk, event_type="trust.change_submit", region_code=f.VILLAGE_A1
    ).exists()
    hf = household_file(actor=cadre_b1, household_id=hh.pk)
    assert [v["village"] for v in hf["village_history"]] == [f.VILLAGE_A1, f.VILLAGE_B1]
    village = next(v for v in hf["fields"] if v.field == "household_type")
    assert village.value == "脱贫户"


@pytest.mark.django_db
def test_split_and_merge_record_member_changes(personas):
    county = personas["county_admin"]
    cadre = personas["cadre_a1"]
    hh = f.household(f.VILLAGE_A1)
    head = f.person(hh)
    son = f.person(hh, name="张强", relation="之子", birth=dt.date(1998, 1, 1))
    dil = f.person(hh, name="刘丽", gender="F", relation="之儿媳", birth=dt.date(1999, 1, 1))
    r = change_request_submit(
        actor=cadre,
        household_id=hh.pk,
        kind="split",
        evidence=EV,
        reason="儿子成家分户",
        payload={
            "person_ids": [son.pk, dil.pk],
            "new_head_id": son.pk,
            "new_household_no": "410506205201999001",
            "date": "2025-05-01",
        },
        on=dt.date(2025, 6, 2),
    )
    r = change_request_approve(actor=county, request_id=r.pk, reason="同意分户")
    new = Household.objects.get(pk=r.result["new_household_id"])
    son.refresh_from_db()
    assert son.household == new and son.relation == "户主"
    assert set(MemberChange.objects.filter(household=hh).values_list("person_id", "kind")) == {
        (son.pk, "other_out"),
        (dil.pk, "other_out"),
    }
    assert set(MemberChange.objects.filter(household=new).values_list("person_id", "kind")) == {
        (son.pk, "other_in"),
        (dil.pk, "other_in"),
    }
    assert {p.pk for p in reg_sel.members_as_of(hh.pk, dt.date.today())} == {head.pk}
    # merge them back
    m = change_request_submit(
        actor=cadre,
        household_id=hh.pk,
        kind="merge",
        evidence=EV,
        reason="合户",
        payload={"source_household_id": new.pk, "date": "2025-06-01"},
        on=dt.date(2025, 6, 2),
    )
    change_request_approve(actor=county, request_id=m.pk, reason="同意合户")
    new.refresh_from_db()
    assert new.status == HouseholdStatus.CANCELLED and "合户并入" in new.status_reason
    assert {p.pk for p in hh.persons.filter(is_member=True)} == {head.pk, son.pk, dil.pk}
    assert MemberChange.objects.filter(household=new, kind="other_out").count() == 2
