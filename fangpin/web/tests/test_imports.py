"""数据导入 screens: a hand-saved GBK file with two bad rows is rejected row by row with a reject report; the
fixed file passes validation, is confirmed, imported by the background job, and its progress record ends at 100."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fangpin.registry.models import ImportBatch, Person

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[3] / "tests" / "e2e" / "data"


def _upload(client, name):
    f = SimpleUploadedFile(name, (DATA / name).read_bytes())
    return client.post("/imports/", {"file": f, "income_year": 2025})


def test_bad_rows_then_fixed_file_confirmed(client, personas):
    client.force_login(personas["county_admin"])
    r = _upload(client, "监测对象信息_有错误.csv")
    assert r.status_code == 302
    bad = ImportBatch.objects.get(pk=int(r["Location"].rstrip("/").rsplit("/", 1)[1]))
    page = client.get(r["Location"]).content.decode()
    assert "第3行" in page and "第4行" in page and "证件号码" in page
    assert "确认导入" not in page
    report = client.get(f"/imports/{bad.pk}/report/")
    assert report.status_code == 200 and report["Content-Disposition"].startswith("attachment")
    assert not Person.objects.filter(name="杜保国").exists()

    r = _upload(client, "监测对象信息_已改正.csv")
    checked = ImportBatch.objects.get(pk=int(r["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert checked.status == "checked" and Path(checked.upload_path).is_file()
    assert "确认导入" in client.get(r["Location"]).content.decode()
    assert not Person.objects.filter(name="杜保国").exists()  # validation wrote nothing
    done = client.post(f"/imports/{checked.pk}/confirm/")
    real = ImportBatch.objects.get(pk=int(done["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert real.status == "imported" and real.progress_pct == 100 and real.persons == 3
    assert Person.objects.filter(name="杜保国", household__household_no="410506205201990001").exists()
    frag = client.get(f"/imports/{real.pk}/progress/").content.decode()
    assert 'value="100"' in frag and "hx-trigger" not in frag  # finished: no more polling
    again = client.post(f"/imports/{checked.pk}/confirm/")
    assert again.status_code == 400  # a dry run is confirmed once


def test_someone_elses_batch_is_not_found_and_cadres_cannot_import(client, personas):
    client.force_login(personas["county_admin"])
    r = _upload(client, "监测对象信息_有错误.csv")
    batch_url = r["Location"]
    client.force_login(personas["county_reviewer"])
    assert client.get(batch_url).status_code in (403, 404)
    client.force_login(personas["cadre_a1"])
    assert client.get("/imports/").status_code == 403
