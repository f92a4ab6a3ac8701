"""农户自主申报: the phone form files a lead with the signed 承诺授权书 photo and answers a 受理编号 the
household can look up (staff by number, the public with the last four ID characters)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.monitoring.models import LeadSource
from fangpin.testing import factories as f
from fangpin.trust.models import Consent

pytestmark = pytest.mark.django_db

PHOTO = Path(__file__).resolve().parents[3] / "tests" / "e2e" / "data" / "承诺授权书.jpg"


def _post(client, hh, **kw):
    data = {
        "household_id": hh.pk,
        "applicant": "杜保国",
        "risk_types": ["因病"],
        "difficulties": "住院自付较多",
        "signed": "yes",
        "signed_by_name": "杜保国",
        "signed_on": clock.today().isoformat(),
        "scope": ["all"],
        "paper_holder": "村委会档案柜",
        "photo": SimpleUploadedFile("授权书.jpg", PHOTO.read_bytes(), content_type="image/jpeg"),
    }
    data.update(kw)
    return client.post("/apply/", data)


def test_application_with_photo_gets_an_ack_number(client, personas):
    hh = f.household(f.VILLAGE_A1)
    head = f.person(hh, name="杜保国")
    client.force_login(personas["cadre_a1"])
    r = _post(client, hh)
    assert r.status_code == 302
    ack = r["Location"].rstrip("/").rsplit("/", 1)[1]
    src = LeadSource.objects.get(source_ref=ack)
    assert src.channel == "self_application" and src.lead.household == hh
    consent = Consent.objects.get(household=hh)
    assert Path(consent.evidence_path).read_bytes() == PHOTO.read_bytes()
    done = client.get(r["Location"]).content.decode()
    assert ack in done and "待核实" in done
    client.logout()
    wrong = client.get("/apply/lookup/", {"ack_no": ack, "id_tail": "0000"})
    assert wrong.status_code == 404
    ok = client.get("/apply/lookup/", {"ack_no": ack, "id_tail": head.id_number[-4:]})
    assert ok.status_code == 200 and "待核实" in ok.content.decode()
    assert "杜保国" not in ok.content.decode()
    assert AuditEvent.objects.filter(event_type="trust.self_application_lookup", result="refused").exists()


def test_signed_without_photo_or_with_a_non_image_is_refused(client, personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    client.force_login(personas["cadre_a1"])
    r = _post(client, hh, photo=SimpleUploadedFile("a.txt", b"not an image"))
    assert r.status_code == 400 and "JPG" in r.content.decode()
    data = {
        "household_id": hh.pk,
        "applicant": "张三",
        "signed": "yes",
        "scope": ["all"],
        "paper_holder": "村委会",
    }
    r = client.post("/apply/", data)
    assert r.status_code == 400 and "照片" in r.content.decode()
    assert not LeadSource.objects.filter(lead__household=hh).exists()


def test_other_village_cannot_apply_or_look_up(client, personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    client.force_login(personas["cadre_a1"])
    ack = _post(client, hh)["Location"].rstrip("/").rsplit("/", 1)[1]
    client.force_login(personas["cadre_b1"])
    assert client.get("/apply/lookup/", {"ack_no": ack}).status_code == 404
    r = _post(client, hh)
    assert r.status_code == 400
