"""The chain appended last (``audit.record.audited_atomic``): a service's audit events are chained by its block's
last statements, so the chain's lock (PostgreSQL) is held only from there to the commit. The same events in the
order recorded, rolled back with the change (a savepoint that rolls back alone takes its own events with it),
the case history linked to its events and sealed, and concurrent writers still make one unforked chain."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from fangpin.audit import record
from fangpin.audit.models import AuditEvent
from fangpin.audit.record import audit_record, audit_record_many, audit_verify, audited_atomic
from fangpin.core.errors import DomainError
from fangpin.core.integrity import integrity_verify
from fangpin.monitoring.models import Case, CaseEvent
from fangpin.monitoring.services import cases, identification, leads
from fangpin.monitoring.tests.helpers import poor_exited_household

J = dt.date


def _types(after: int = 0) -> list[str]:
    return list(AuditEvent.objects.filter(seq__gt=after).order_by("seq").values_list("event_type", flat=True))


def _head() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@audited_atomic
def _service(types: list[str], *, fail: bool = False, inner: list[str] | None = None, inner_fails=False):
    for t in types[:1]:
        audit_record(actor=None, event_type=t)
    if inner is not None:
        try:
            with transaction.atomic():  # a savepoint inside the block
                for t in inner:
                    audit_record(actor=None, event_type=t)
                if inner_fails:
                    raise DomainError("x", "内层失败")
        except DomainError:
            pass
    for t in types[1:]:
        audit_record(actor=None, event_type=t)
    if fail:
        raise DomainError("x", "失败")


@pytest.mark.django_db
def test_events_wait_for_the_end_of_the_block_in_the_order_recorded():
    h = _head()
    _service(["t.a", "t.b"], inner=["t.in1", "t.in2"])
    assert _types(h) == ["t.a", "t.in1", "t.in2", "t.b"]
    assert audit_verify() == []


@pytest.mark.django_db
def test_a_failing_change_leaves_no_event():
    h = _head()
    with pytest.raises(DomainError):
        _service(["t.a", "t.b"], fail=True)
    assert _types(h) == []
    _service(["t.c"])  # the chain goes on from the last committed head
    assert _types(h) == ["t.c"] and audit_verify() == []


@pytest.mark.django_db
def test_a_savepoint_rolled_back_inside_the_block_takes_its_events_with_it():
    h = _head()
    _service(["t.a", "t.b"], inner=["t.gone1", "t.gone2"], inner_fails=True)
    assert _types(h) == ["t.a", "t.b"]
    assert not connection.run_on_commit  # the markers of the savepoint's events do not stay behind
    assert audit_verify() == []


@pytest.mark.django_db
def test_a_block_inside_a_block_joins_it_and_rolls_back_alone():
    @audited_atomic
    def inner(fail: bool):
        audit_record(actor=None, event_type="t.inner")
        if fail:
            raise DomainError("x", "内层失败")

    @audited_atomic
    def outer():
        audit_record(actor=None, event_type="t.outer1")
        inner(False)
        with contextlib.suppress(DomainError):
            inner(True)
        audit_record_many(
            [{"actor": None, "event_type": "t.many1"}, {"actor": None, "event_type": "t.many2"}]
        )
        audit_record(actor=None, event_type="t.outer2")

    h = _head()
    outer()
    assert _types(h) == ["t.outer1", "t.inner", "t.many1", "t.many2", "t.outer2"]
    assert audit_verify() == []


@pytest.mark.django_db
def test_outside_a_block_the_event_is_chained_at_once():
    with transaction.atomic():
        ev = audit_record(actor=None, event_type="t.now")
        assert ev.seq is not None and AuditEvent.objects.filter(seq=ev.seq).exists()


def _open_case(personas) -> Case:
    cadre = personas["cadre_a1"]
    lead = leads.lead_submit(
        actor=cadre,
        household=poor_exited_household(),
        channel="cadre_visit",
        risk_types=["因病"],
        on=J(2025, 6, 2),
    )
    return identification.case_open(actor=cadre, lead=lead, on=J(2025, 6, 2))


@pytest.mark.django_db
def test_a_case_step_chains_its_event_last_and_links_its_history_row(personas):
    cadre = personas["cadre_a1"]
    case = _open_case(personas)
    opened = case.events.get(kind="open")
    assert AuditEvent.objects.get(seq=opened.audit_seq).event_type == "monitoring.case_open"
    with CaptureQueriesContext(connection) as q:
        cases.case_step_complete(
            actor=cadre,
            case=case.pk,
            step="verify",
            on=J(2025, 6, 3),
            data={"findings": "属实"},
            version=case.version,
        )
    sqls = [x["sql"] for x in q.captured_queries]
    chain = [i for i, s in enumerate(sqls) if "INSERT INTO" in s and "audit_auditevent" in s]
    assert len(chain) == 1
    after = [
        s for s in sqls[chain[0] + 1 :] if s not in ("COMMIT", "RELEASE SAVEPOINT") and "SAVEPOINT" not in s
    ]
    # after the chain's append only the history row's link and seal (one UPDATE)
    assert len(after) == 1 and after[0].startswith('UPDATE "monitoring_caseevent"'), after
    done = CaseEvent.objects.get(case=case, kind="step_done")
    ev = AuditEvent.objects.get(seq=done.audit_seq)
    assert ev.event_type == "monitoring.case_step_done" and ev.data["step"] == "verify"
    assert ev.object_id == str(case.pk) and ev.household_id == case.household_id
    assert not integrity_verify().tampered and audit_verify() == []
    timeline = [r["kind"] for r in cases_timeline(cadre, case)]
    assert timeline[:2] == ["open", "step_done"]


def cases_timeline(actor, case):
    from fangpin.monitoring.selectors import case_timeline

    return [r for r in case_timeline(actor=actor, case=case) if r["source"] == "case"]


@pytest.mark.django_db
def test_a_case_step_whose_chain_append_fails_changes_nothing(personas, monkeypatch):
    cadre = personas["cadre_a1"]
    case = _open_case(personas)
    h, events = _head(), CaseEvent.objects.count()

    def broken(*a, **k):
        raise RuntimeError("chain unavailable")

    monkeypatch.setattr(record, "_append_pg", broken)
    monkeypatch.setattr(record, "_chain_head", broken)
    with pytest.raises(RuntimeError):
        cases.case_step_complete(
            actor=cadre, case=case.pk, step="verify", on=J(2025, 6, 3), data={"findings": "属实"}
        )
    case.refresh_from_db()
    assert case.current_step == "verify" and _types(h) == [] and CaseEvent.objects.count() == events


@pytest.mark.django_db
def test_a_stale_case_step_is_refused_and_leaves_no_event(personas):
    cadre = personas["cadre_a1"]
    case = _open_case(personas)
    h = _head()
    with pytest.raises(DomainError) as e:
        cases.case_step_complete(
            actor=cadre, case=case.pk, step="verify", on=J(2025, 6, 3), data={}, version=case.version - 1
        )
    assert e.value.code == cases.E_STALE and _types(h) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_readers_make_one_unforked_chain():
    """Writers (two events each, chained at the end of their block, some of them failing after recording)
    beside readers (an event each outside any transaction) in threads, each with its own connection: every
    committed event is in the chain once, no failed writer's event is, no two events link to the same head."""
    if connection.vendor != "postgresql":
        pytest.skip("the chain's lock and concurrent writers: PostgreSQL (SQLite serialises its writers)")
    writers, readers, rounds = 4, 3, 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers + readers)

    @audited_atomic
    def write(w: int, i: int) -> None:
        audit_record(actor=None, event_type="t.write", data={"w": w, "i": i, "n": 1})
        AuditEvent.objects.filter(seq=-1).exists()  # more work in the transaction after recording
        audit_record(actor=None, event_type="t.write", data={"w": w, "i": i, "n": 2})
        if i % 3 == 2:
            raise DomainError("x", "失败")

    def writer(w: int) -> None:
        try:
            barrier.wait()
            for i in range(rounds):
                with contextlib.suppress(DomainError):
                    write(w, i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connections.close_all()

    def reader(r: int) -> None:
        try:
            barrier.wait()
            for i in range(rounds * 2):
                audit_record(actor=None, event_type="t.read", data={"r": r, "i": i})
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            connections.close_all()

    h = _head()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    threads += [threading.Thread(target=reader, args=(r,)) for r in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    rows = list(
        AuditEvent.objects.filter(seq__gt=h).order_by("seq").values("seq", "prev_hash", "hash", "data")
    )
    committed = [i for i in range(rounds) if i % 3 != 2]
    writes = [r["data"] for r in rows if "w" in r["data"]]
    assert sorted((d["w"], d["i"], d["n"]) for d in writes) == sorted(
        (w, i, n) for w in range(writers) for i in committed for n in (1, 2)
    )
    for w in range(writers):  # each writer's two events next to each other in the chain, in order
        for i in committed:
            at = [k for k, r in enumerate(rows) if r["data"].get("w") == w and r["data"].get("i") == i]
            assert at[1] == at[0] + 1 and rows[at[0]]["data"]["n"] == 1
    assert len([r for r in rows if "r" in r["data"]]) == readers * rounds * 2
    prevs = [r["prev_hash"] for r in rows]
    assert len(set(prevs)) == len(prevs)  # no fork
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:], strict=False))
    assert audit_verify() == []
