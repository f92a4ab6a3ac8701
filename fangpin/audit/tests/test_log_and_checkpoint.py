"""Audit gaps: refused reads, logins, searches recorded; the auditor's screen and CLI; the chain head
anchored outside the table notices deleted newest events and a deleted range with a recomputed chain."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from fangpin.accounts.access import access_object
from fangpin.audit.checkpoint import checkpoint_path, checkpoint_verify, checkpoint_write
from fangpin.audit.models import AuditEvent
from fangpin.audit.record import _hash, audit_record, audit_verify
from fangpin.core.errors import NotFound
from fangpin.registry.models import Household
from fangpin.testing import factories as f

EXPORT_ON = dt.date(2026, 12, 1)  # the business date of the exports


@pytest.fixture(autouse=True)
def _fresh_checkpoint():
    checkpoint_path().unlink(missing_ok=True)
    yield
    checkpoint_path().unlink(missing_ok=True)


def _events(n: int) -> None:
    for i in range(n):
        audit_record(actor=None, event_type="test.event", object_type="x", object_id=i)


def _raw(sql: str, params=()) -> None:
    """What an attacker with database rights does: trigger off, then change the table."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute(sql, params)
            cur.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            cur.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
            cur.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            cur.execute(sql, params)


def _rechain() -> None:
    """Recompute every hash after a deletion, as a careful attacker would."""
    prev = "0" * 64
    for ev in AuditEvent.objects.order_by("seq"):
        ev.prev_hash = prev
        ev.hash = _hash(prev, ev)
        _raw(
            "UPDATE audit_auditevent SET prev_hash=%s, hash=%s WHERE seq=%s", [ev.prev_hash, ev.hash, ev.seq]
        )
        prev = ev.hash


@pytest.mark.django_db
def test_deleting_the_newest_events_is_noticed():
    _events(5)
    cp = checkpoint_write()
    assert cp is not None and checkpoint_verify() == []
    _raw("DELETE FROM audit_auditevent WHERE seq >= %s", [cp.seq - 1])
    assert audit_verify() == []  # the chain alone is still consistent
    problems = checkpoint_verify()
    assert problems and "最新事件被删除" in problems[0]
    with pytest.raises(CommandError):
        call_command("audit_verify")


@pytest.mark.django_db
def test_a_deleted_range_with_a_recomputed_chain_is_noticed():
    _events(6)
    checkpoint_write()
    first = AuditEvent.objects.order_by("seq").first().seq
    _raw("DELETE FROM audit_auditevent WHERE seq IN (%s, %s)", [first + 1, first + 2])
    _rechain()
    assert audit_verify() == []
    problems = checkpoint_verify()
    assert any("哈希链被重算" in p for p in problems) and any("少了2条" in p for p in problems)


@pytest.mark.django_db
def test_a_forged_checkpoint_line_is_noticed():
    _events(2)
    checkpoint_write()
    line = json.loads(checkpoint_path().read_text().splitlines()[0])
    line["count"] = 1
    checkpoint_path().write_text(json.dumps(line) + "\n")
    assert "签名无效" in checkpoint_verify()[0]


@pytest.mark.django_db
def test_audit_verify_command_writes_checkpoints(capsys):
    _events(3)
    call_command("audit_verify", "--checkpoint")
    assert "已写入检查点" in capsys.readouterr().out
    assert len(checkpoint_path().read_text().splitlines()) == 1
    from fangpin.audit.tasks import audit_checkpoint_periodic

    _events(1)
    assert audit_checkpoint_periodic.call_local() == AuditEvent.objects.order_by("-seq").first().seq


@pytest.mark.django_db
def test_refused_reads_are_recorded_the_same_for_missing_and_out_of_scope(personas):
    b1 = f.household(f.VILLAGE_B1)
    for pk in (b1.pk, 999_999):
        with pytest.raises(NotFound) as e:
            access_object(personas["cadre_a1"], Household, pk, what="户")
        assert e.value.message == "户不存在或无权访问"
    evs = list(AuditEvent.objects.filter(event_type="access.refused").order_by("seq"))
    assert [(e.object_id, e.data["exists"], e.actor) for e in evs] == [
        (str(b1.pk), True, personas["cadre_a1"]),
        ("999999", False, personas["cadre_a1"]),
    ]


@pytest.mark.django_db
def test_refused_export_is_recorded(personas, tmp_path):
    from fangpin.core.errors import PermissionDenied
    from fangpin.registry.io.export import registry_export

    with pytest.raises(PermissionDenied):
        registry_export(on=EXPORT_ON, actor=personas["dept_yibao"], out_path=tmp_path / "x.xlsx")
    ev = AuditEvent.objects.get(event_type="access.denied")
    assert ev.actor == personas["dept_yibao"] and ev.data["cap"] == "registry.export"


@pytest.mark.django_db
def test_mingbaizhi_cli_answers_the_same_for_missing_and_not_yours(personas, tmp_path):
    b1 = f.household(f.VILLAGE_B1)
    f.person(b1, name="李小河")
    answers = []
    for no in (b1.household_no, "410506999999999999"):
        with pytest.raises(CommandError) as e:
            call_command("mingbaizhi", no, "--out", str(tmp_path / "m.html"), "--as", "cadre_a1")
        answers.append(str(e.value))
    assert answers[0] == answers[1] == "户不存在或无权访问"
    assert AuditEvent.objects.filter(event_type="access.refused").count() == 2


@pytest.mark.django_db
def test_auditor_screen_and_cli(client, personas):
    a1 = f.household(f.VILLAGE_A1)
    client.force_login(personas["cadre_a1"])
    client.get("/households/?q=410506197503040011")
    client.get(f"/households/{a1.id}/")
    ev = AuditEvent.objects.get(event_type="registry.household_search")
    assert ev.data["query"] == "410506********0011" and ev.data["total"] == 0
    assert client.get("/audit/").status_code == 404  # a cadre is not an auditor

    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role

    auditor = User.objects.create(username="auditor_x", role=Role.AUDITOR, region_id=f.COUNTY)
    client.force_login(auditor)
    body = client.get("/audit/").content.decode()
    assert "trust.household_file_view" in body and "registry.household_search" in body
    only = client.get("/audit/?event_type=registry.").content.decode()
    assert "registry.household_search" in only and "trust.household_file_view" not in only
    assert "410506197503040011" not in body
    # each event in words beside its code, the result in words
    assert '查看户档案<br><code class="muted">trust.household_file_view</code>' in body
    assert '查询户档案<br><code class="muted">registry.household_search</code>' in body
    rows = body.split('<table id="audit-rows">')[1].split("</table>")[0]
    assert "<td>成功</td>" in rows and "<td>ok</td>" not in rows
    assert AuditEvent.objects.filter(event_type="audit.search", actor=auditor).count() == 2
    home = client.get(
        "/"
    ).content.decode()  # the auditor's 工作台: the week's event types by name, each a filter
    assert '<a href="/audit/?event_type=trust.household_file_view">查看户档案</a>' in home

    from io import StringIO

    out = StringIO()
    call_command("audit_log", "--as", "auditor_x", "--type", "trust.household_file_view", stdout=out)
    assert "trust.household_file_view" in out.getvalue() and "共1条" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("audit_log", "--as", "cadre_a1")


@pytest.mark.django_db
def test_export_of_another_region_is_refused_and_recorded(personas, tmp_path):
    from fangpin.registry.io.export import registry_export

    with pytest.raises(NotFound):
        registry_export(
            on=EXPORT_ON, actor=personas["cadre_a1"], out_path=tmp_path / "x.xlsx", region_code=f.VILLAGE_B1
        )
    ev = AuditEvent.objects.get(event_type="registry.export", result="refused")
    assert ev.actor == personas["cadre_a1"] and ev.region_code == f.VILLAGE_B1


@pytest.mark.django_db
def test_web_pages_of_another_village_are_not_found_and_recorded(client, personas):
    b1 = f.household(f.VILLAGE_B1)
    client.force_login(personas["cadre_a1"])
    for url in (f"/households/{b1.id}/", f"/households/{b1.id}/mingbaizhi/", "/households/999999/"):
        assert client.get(url).status_code == 404
    evs = AuditEvent.objects.filter(event_type="access.refused", actor=personas["cadre_a1"])
    assert evs.count() == 3 and sorted(e.data["exists"] for e in evs) == [False, True, True]


@pytest.mark.django_db
def test_a_refusal_inside_a_rolled_back_write_is_recorded_at_the_end_of_the_request(personas, rf):
    from django.db import transaction
    from django.http import HttpResponse

    from fangpin.audit.refusals import RefusalAuditMiddleware

    b1 = f.household(f.VILLAGE_B1)

    def write_view(request):  # a write service: refusal inside its transaction, which rolls back
        try:
            with transaction.atomic():
                access_object(personas["cadre_a1"], Household, b1.pk, what="户", for_update=True)
        except NotFound:
            return HttpResponse(status=404)
        return HttpResponse()

    write_view(rf.post("/x/"))  # without the middleware the refusal is lost with the rollback
    assert not AuditEvent.objects.filter(event_type="access.refused").exists()
    assert RefusalAuditMiddleware(write_view)(rf.post("/x/")).status_code == 404
    ev = AuditEvent.objects.get(event_type="access.refused")
    assert ev.actor == personas["cadre_a1"] and ev.object_id == str(b1.pk) and ev.data["after_rollback"]
    # a refusal that was not rolled back is not written twice
    with pytest.raises(NotFound):
        RefusalAuditMiddleware(lambda r: access_object(personas["cadre_a1"], Household, b1.pk))(rf.get("/"))
    assert AuditEvent.objects.filter(event_type="access.refused").count() == 2


def test_every_event_type_written_by_the_code_has_a_name():
    """A new audit event type gets its name in audit/event_names.py (the auditor's screens show it)."""
    import re
    from pathlib import Path

    from fangpin.audit.event_names import event_name
    from fangpin.trust.timeline import CASE_EVENT_NAMES

    root = Path(__file__).resolve().parents[2]
    written = set()
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'event_type="([a-z_]+\.[a-z_]+)"', text))
        written |= set(re.findall(r'audit_list_view\([^,]+, "([a-z_]+\.[a-z_]+)"', text))
    written |= {f"monitoring.case_{k}" for k in CASE_EVENT_NAMES}
    written |= {f"registry.{e}_update" for e in ("household", "person", "income")}
    assert len(written) > 80
    unnamed = sorted(t for t in written if event_name(t) == t)
    assert not unnamed, unnamed
