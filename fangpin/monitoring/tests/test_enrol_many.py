"""enrol_existing_many (an import's monitoring hand-over) writes what enrol_existing writes, call by call:
the same objects, leads, lead sources and audit events, in one batch, all or nothing."""

import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.audit.record import audit_verify
from fangpin.monitoring.models import Lead, LeadSource, MonitoringObject, ObjectStatus
from fangpin.monitoring.services import enrolment
from fangpin.monitoring.services.enrolment import EnrolmentRefused, ExistingEnrolment
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db

# (category, risk types, identified_on, eliminated_on, method): active, eliminated, eliminated in another year
FACTS = [
    ("脱贫不稳定户", ["因病", "因残", "因病"], dt.date(2024, 3, 1), None, ""),
    ("边缘易致贫户", ["因学"], dt.date(2023, 5, 1), dt.date(2024, 2, 1), "帮扶消除"),
    ("突发严重困难户", ["因病"], dt.date(2022, 11, 1), dt.date(2025, 1, 1), "自然消除"),
]
SKIP = {"integrity_mac", "id", "household", "lead", "created_at", "source_ref"}


def _row(obj, skip=SKIP):
    return {k: v for k, v in vars(obj).items() if not k.startswith("_") and k.removesuffix("_id") not in skip}


def _event(ev):
    return (
        ev.event_type,
        ev.object_type,
        ev.region_code,
        ev.actor_id,
        ev.result,
        ev.reason,
        {k: v for k, v in ev.data.items() if k != "source_ref"},
    )


def _kw(hh, facts, ref):
    category, risks, identified, eliminated, method = facts
    return dict(
        household=hh,
        category=category,
        risk_types=risks,
        identified_on=identified,
        eliminated_on=eliminated,
        elimination_method=method,
        source_ref=ref,
    )


def test_many_writes_what_one_by_one_writes(personas):
    admin = personas["county_admin"]
    one = [f.household(v) for v in (f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1)]
    many = [f.household(v) for v in (f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1)]
    start = AuditEvent.objects.count()
    singles = [
        enrolment.enrol_existing(actor=admin, **_kw(h, x, f"one:{i}"))
        for i, (h, x) in enumerate(zip(one, FACTS, strict=True))
    ]
    mid = AuditEvent.objects.count()
    batch = enrolment.enrol_existing_many(
        actor=admin,
        items=[
            ExistingEnrolment(**_kw(h, x, f"many:{i}"))
            for i, (h, x) in enumerate(zip(many, FACTS, strict=True))
        ],
    )
    assert [o.household_id for o in batch] == [h.pk for h in many]
    for a, b in zip(singles, batch, strict=True):
        a, b = MonitoringObject.objects.get(pk=a.pk), MonitoringObject.objects.get(pk=b.pk)
        assert _row(a) == _row(b)
        assert b.village_id == b.household.village_id  # the snapshot bulk_create does not take itself
        assert _row(Lead.objects.get(pk=a.lead_id), SKIP | {"township"}) == _row(
            Lead.objects.get(pk=b.lead_id), SKIP | {"township"}
        )
        sa, sb = LeadSource.objects.get(lead_id=a.lead_id), LeadSource.objects.get(lead_id=b.lead_id)
        assert _row(sa, SKIP | {"lead"}) == _row(sb, SKIP | {"lead"}) and sb.source_ref.startswith("many:")
    assert MonitoringObject.objects.get(pk=batch[0].pk).risk_types == ["因病", "因残"]  # de-duplicated
    assert batch[1].status == ObjectStatus.ELIMINATED and batch[1].gradual_exit_until == dt.date(2025, 2, 1)
    one_events = list(AuditEvent.objects.order_by("seq")[start:mid])
    many_events = list(AuditEvent.objects.order_by("seq")[mid:])
    assert [_event(e) for e in one_events] == [_event(e) for e in many_events]
    assert [e.object_id for e in many_events] == [str(o.pk) for o in batch]
    assert [e.household_id for e in many_events] == [h.pk for h in many]
    assert audit_verify() == []  # the bulk-written events extend the hash chain correctly

    # again, with the national system now reporting the first household's elimination: same objects,
    # one elimination (with its own event), nothing else written
    again = [ExistingEnrolment(**_kw(h, x, "again")) for h, x in zip(many, FACTS, strict=True)]
    again[0] = ExistingEnrolment(
        **{
            **_kw(many[0], FACTS[0], "again"),
            "eliminated_on": dt.date(2025, 3, 1),
            "elimination_method": "帮扶消除",
        }
    )
    n_obj, n_lead, n_ev = MonitoringObject.objects.count(), Lead.objects.count(), AuditEvent.objects.count()
    assert [o.pk for o in enrolment.enrol_existing_many(actor=admin, items=again)] == [o.pk for o in batch]
    assert (MonitoringObject.objects.count(), Lead.objects.count()) == (n_obj, n_lead)
    assert list(
        AuditEvent.objects.filter(seq__gt=AuditEvent.objects.order_by("seq")[n_ev - 1].seq).values_list(
            "event_type", flat=True
        )
    ) == ["monitoring.object_eliminate"]
    first = MonitoringObject.objects.get(pk=batch[0].pk)
    assert first.status == ObjectStatus.ELIMINATED and first.gradual_exit_until == dt.date(2026, 3, 1)
    assert audit_verify() == []


def test_many_refuses_all_or_nothing_and_names_every_refused_item(personas):
    admin = personas["county_admin"]
    hhs = [f.household(f.VILLAGE_A1) for _ in range(4)]
    enrolment.enrol_existing(actor=admin, **_kw(hhs[3], FACTS[0], "earlier"))
    n_obj, n_lead, n_ev = MonitoringObject.objects.count(), Lead.objects.count(), AuditEvent.objects.count()
    items = [
        ExistingEnrolment(**_kw(hhs[0], FACTS[0], "a")),  # fine on its own
        ExistingEnrolment(**{**_kw(hhs[1], FACTS[0], "b"), "category": "贫困户"}),
        ExistingEnrolment(**{**_kw(hhs[2], FACTS[0], "c"), "risk_types": ["不是风险"]}),
        ExistingEnrolment(
            **{**_kw(hhs[3], FACTS[0], "d"), "identified_on": dt.date(2024, 9, 1)}
        ),  # already active
    ]
    with pytest.raises(EnrolmentRefused) as e:
        enrolment.enrol_existing_many(actor=admin, items=items)
    assert [(k, err.code) for k, err in e.value.errors] == [
        (1, enrolment.E_CATEGORY),
        (2, "risk_type_unknown"),
        (3, enrolment.E_ALREADY_ACTIVE),
    ]
    assert (MonitoringObject.objects.count(), Lead.objects.count(), AuditEvent.objects.count()) == (
        n_obj,
        n_lead,
        n_ev,
    )
