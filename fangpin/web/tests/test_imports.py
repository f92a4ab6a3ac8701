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


def test_unknown_headers_ask_the_mapping_question_in_the_browser(client, personas):
    from pathlib import Path

    from fangpin.registry.models import ImportBatch, ImportStatus

    messy = Path(__file__).resolve().parents[3] / "tests" / "e2e" / "data" / "监测对象信息_县自定义表头.csv"
    client.force_login(personas["county_admin"])
    with messy.open("rb") as f:
        r = client.post("/imports/", {"file": f, "income_year": 2025})
    batch = ImportBatch.objects.latest("id")
    assert batch.status == ImportStatus.MAPPING and r["Location"] == f"/imports/{batch.pk}/mapping/"
    page = client.get(r["Location"]).content.decode()
    assert "家庭编号" in page and "建议：人编号" in page and "缺少必需列：户编号" in page
    form = {f"h-{i}": h for i, h in enumerate(batch.details["mapping_question"]["unknown"], start=1)}
    keys = {"所属县": "county", "行政村名称": "village", "家庭编号": "household_no", "身份证件号码（18位）": "id_number",
            "联系电话（手机）": "person_phone", "人均纯收入【元】": "stated_per_capita", "村里备注": ""}  # fmt: skip
    answers = {
        f"map-{i}": keys[h] for i, h in enumerate(batch.details["mapping_question"]["unknown"], start=1)
    }
    # htmx preview: re-read with the answers, nothing saved
    pv = client.post(r["Location"], {**form, **answers, "action": "preview"}, HTTP_HX_REQUEST="true")
    assert pv.status_code == 200 and "→ 户编号" in pv.content.decode() and "<h1>" not in pv.content.decode()
    # one header left unanswered: refused, naming it
    bad = client.post(r["Location"], {**form, **answers, "map-1": "?", "action": "save"})
    assert bad.status_code == 400 and "请为表头“所属县”选择" in bad.content.decode()
    ok = client.post(r["Location"], {**form, **answers, "action": "save"})
    checked = ImportBatch.objects.latest("id")
    assert ok["Location"] == f"/imports/{checked.pk}/" and checked.status == ImportStatus.CHECKED
    assert "村里备注" in client.get(ok["Location"]).content.decode()
    batch.refresh_from_db()
    assert batch.details["remapped_batch"] == checked.pk
    assert client.get(f"/imports/{batch.pk}/mapping/")["Location"] == f"/imports/{batch.pk}/"


def test_a_village_file_with_unknown_headers_asks_the_mapping_question_in_the_browser(client, personas):
    """（自定义）行政村信息 re-saved by hand as GBK CSV (村 renamed 行政村名, a 联系人 column): the upload stops at
    the same 列对应 screen, the answer is saved for the file kind and layout, the file is checked again,
    confirmed and imported; the next upload of the layout goes straight to the check."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fangpin.registry.models import ImportStatus, VillageProfile
    from fangpin.registry.models.imports import ImportMapping
    from fangpin.registry.tests.test_kind_mapping import _village

    client.force_login(personas["county_admin"])
    up = SimpleUploadedFile("（自定义）行政村信息_另存.csv", _village())
    r = client.post("/imports/", {"file": up, "income_year": 2025})
    batch = ImportBatch.objects.latest("id")
    assert batch.kind == "village_profile" and batch.status == ImportStatus.MAPPING
    assert r["Location"] == f"/imports/{batch.pk}/mapping/" and VillageProfile.objects.count() == 0
    page = client.get(r["Location"]).content.decode()
    assert "“（自定义）行政村信息”的列名" in page and "行政村名" in page and "建议：村" in page
    unknown = batch.details["mapping_question"]["unknown"]
    assert unknown == ["行政村名", "联系人"]
    form = {f"h-{i}": h for i, h in enumerate(unknown, start=1)}
    answers = {"map-1": "village", "map-2": ""}
    bad = client.post(r["Location"], {**form, "map-1": "village", "map-2": "?", "action": "save"})
    assert bad.status_code == 400 and "请为表头“联系人”选择" in bad.content.decode()
    ok = client.post(r["Location"], {**form, **answers, "action": "save"})
    checked = ImportBatch.objects.latest("id")
    assert ok["Location"] == f"/imports/{checked.pk}/" and checked.status == ImportStatus.CHECKED
    assert checked.kind == "village_profile" and VillageProfile.objects.count() == 0
    assert ImportMapping.objects.get(kind="village_profile").columns == {"行政村名": "village", "联系人": ""}
    done = client.post(f"/imports/{checked.pk}/confirm/")
    real = ImportBatch.objects.get(pk=int(done["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert real.status == ImportStatus.IMPORTED and real.created == 3 and VillageProfile.objects.count() == 3
    again = client.post(
        "/imports/", {"file": SimpleUploadedFile("村情.csv", _village()), "income_year": 2025}
    )
    assert (
        ImportBatch.objects.latest("id").status == ImportStatus.CHECKED and "mapping" not in again["Location"]
    )
