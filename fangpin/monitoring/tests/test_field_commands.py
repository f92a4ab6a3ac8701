"""The field work from the command line: `visit`, `self_apply` and `link_review` call the same services as the
phone screens and the review queue (scope, validation, leads, audit)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.monitoring.models import Lead, Visit
from fangpin.screening.models import LinkReview, ReviewStatus
from fangpin.testing import factories as f
from fangpin.trust.models import Consent

TODAY = dt.date(2025, 6, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def hh(db):
    h = f.household(f.VILLAGE_A1)
    f.person(h, name="王大山")
    return h


def test_visit_due_log_and_list(personas, hh):
    assert hh.household_no in run("visit", "due", "--month", "2025-06", "--as", "cadre_a1")
    out = run("visit", "log", hh.household_no, "--on", "2025-06-18", "--as", "cadre_a1")
    v = Visit.objects.get(household=hh)
    assert v.visited_on == dt.date(2025, 6, 18) and not v.has_risk and v.lead_id is None
    assert all(item["ok"] for item in v.checklist.values()) and len(v.checklist) == 9
    assert str(v.pk) in out
    out = run("visit", "log", hh.household_no, "--on", "2025-06-19", "--problem", "健康=户主住院", "--risk",
              "因病", "--as", "cadre_a1")  # fmt: skip
    v2 = Visit.objects.exclude(pk=v.pk).get(household=hh)
    assert v2.has_risk and v2.checklist["health"] == {"ok": False, "note": "户主住院"}
    assert Lead.objects.filter(household=hh, pk=v2.lead_id).exists() and "风险线索" in out
    assert "2025-06-19" in run("visit", "list", "--as", "cadre_a1")


def test_visit_refusals(personas, hh):
    with pytest.raises(CommandError, match="不存在或无权访问"):
        run("visit", "log", hh.household_no, "--as", "cadre_b1")
    refused = AuditEvent.objects.get(event_type="access.refused", object_id=str(hh.pk))
    assert refused.actor.username == "cadre_b1" and refused.data["exists"] is True
    with pytest.raises(CommandError, match="未知的走访方面"):
        run("visit", "log", hh.household_no, "--problem", "天气=晴", "--as", "cadre_a1")
    with pytest.raises(CommandError, match="不能晚于今天"):
        run("visit", "log", hh.household_no, "--on", "2025-06-21", "--as", "cadre_a1")
    assert not Visit.objects.exists()
    assert AuditEvent.objects.filter(event_type="monitoring.visit_refused").exists()


def test_self_apply_submit_and_status(personas, hh, tmp_path, settings):
    settings.FANGPIN_VAR = tmp_path
    photo = tmp_path / "承诺授权书.png"
    photo.write_bytes(PNG)
    out = run("self_apply", "submit", hh.household_no, "--as", "cadre_a1", "--applicant", "王大山",
              "--on-behalf", "--difficulties", "户主住院", "--risk", "因病", "--signed", "--signed-on",
              "2025-06-19", "--signed-by", "王大山", "--paper-holder", "村委会档案柜", "--photo", str(photo))  # fmt: skip
    ack = out.split("受理编号：", 1)[1].split("（", 1)[0]
    assert Consent.objects.filter(household=hh).exists()
    assert Lead.objects.filter(household=hh, sources__source_ref=ack).exists()
    assert "待核实" in run("self_apply", "status", ack, "--as", "cadre_a1")
    with pytest.raises(CommandError, match="未找到该受理编号"):
        run("self_apply", "status", ack, "--as", "cadre_b1")  # another village: the same answer as missing
    with pytest.raises(CommandError, match="未找到该受理编号"):
        run("self_apply", "status", "NOSUCH", "--as", "cadre_a1")
    with pytest.raises(CommandError, match="已签署时须给出"):
        run("self_apply", "submit", hh.household_no, "--as", "cadre_a1", "--applicant", "王大山",
            "--difficulties", "x", "--signed")  # fmt: skip


def test_link_review_decide(personas, hh):
    p = hh.persons.get()
    r = LinkReview.objects.create(source="medical", fingerprint="f" * 64, record={"name": "王大山"},
                                  candidate=p, probability=0.8, agreeing=["name"])  # fmt: skip
    with pytest.raises(CommandError, match="不存在或无权访问"):
        run("link_review", str(r.pk), "--accept", "--as", "cadre_b1")
    assert "确认同一人" in run(
        "link_review", str(r.pk), "--accept", "--note", "核对户口本", "--as", "cadre_a1"
    )
    r.refresh_from_db()
    assert r.status == ReviewStatus.ACCEPTED and r.note == "核对户口本"
    with pytest.raises(CommandError, match="已复核"):
        run("link_review", str(r.pk), "--reject", "--as", "cadre_a1")
