"""The API's export above the row threshold: 202 with a job to poll (Location), then its download URL; the
job and its file are the requester's only (404 for anyone else, audited); the workbook equals the
synchronous one for the same filter."""

import datetime as dt
import hashlib
import io
import json

import pytest
from openpyxl import load_workbook

from fangpin.audit.models import AuditEvent
from fangpin.policy.params import parameter_set
from fangpin.registry.models import ExportJob
from fangpin.registry.services import export_jobs as svc

pytestmark = pytest.mark.django_db


def _cells(content: bytes) -> list[tuple]:
    rows = [
        tuple(r)
        for r in load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True)
    ]
    return rows[:1] + rows[2:]  # row 2: the subtitle with the minute of the export


def _threshold(personas, n: int) -> None:
    parameter_set(actor=personas["county_admin"], key=svc.JOB_ROWS, value=n, year=dt.date.today().year,
                  basis="测试")  # fmt: skip


def test_a_large_export_answers_202_with_a_job_then_the_file(
    client, world, bearer, personas, django_capture_on_commit_callbacks
):
    h = bearer("cadre_a1")
    sync = client.get("/api/v1/households/export", **h)
    assert sync.status_code == 200
    sync_cells = _cells(b"".join(sync.streaming_content))
    _threshold(personas, 1)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get("/api/v1/households/export", **h)
    assert r.status_code == 202
    body = json.loads(r.content)
    job = ExportJob.objects.get(pk=body["id"])
    assert r["Location"] == f"/api/v1/exports/{job.pk}" and body["status"] == "queued" and not body["ready"]
    assert body["masked"] is True and body["estimated_rows"] == sync_cells.__len__() - 2
    polled = json.loads(client.get(r["Location"], **h).content)
    assert (
        polled["ready"]
        and polled["status"] == "done"
        and polled["download_url"] == f"/api/v1/exports/{job.pk}/file"
    )
    f = client.get(polled["download_url"], **h)
    assert f.status_code == 200 and f["Content-Type"].startswith("application/vnd.openxmlformats")
    content = b"".join(f.streaming_content)
    assert hashlib.sha256(content).hexdigest() == polled["sha256"]
    assert _cells(content) == sync_cells
    assert [j["id"] for j in json.loads(client.get("/api/v1/exports", **h).content)] == [job.pk]
    ev = AuditEvent.objects.filter(event_type="registry.export_download").last()
    assert ev.actor == personas["cadre_a1"] and ev.data["sha256"] == polled["sha256"]


def test_another_users_job_is_404_and_audited(client, world, bearer, personas):
    job = svc.export_job_create(actor=personas["cadre_a1"], on=dt.date.today(), filters={}, queue=False)
    svc.export_job_run(job.pk)
    for url in (f"/api/v1/exports/{job.pk}", f"/api/v1/exports/{job.pk}/file"):
        before = AuditEvent.objects.filter(event_type="access.refused").count()
        r = client.get(url, **bearer("cadre_b1"))
        assert r.status_code == 404 and json.loads(r.content)["message"] == "导出任务不存在或无权访问"
        assert AuditEvent.objects.filter(event_type="access.refused").count() == before + 1
    assert json.loads(client.get("/api/v1/exports", **bearer("cadre_b1")).content) == []


def test_a_job_not_ready_is_409(client, world, bearer, personas):
    job = svc.export_job_create(actor=personas["cadre_a1"], on=dt.date.today(), filters={}, queue=False)
    r = client.get(f"/api/v1/exports/{job.pk}/file", **bearer("cadre_a1"))
    assert r.status_code == 409 and "尚未生成" in json.loads(r.content)["message"]


def test_the_synchronous_export_runs_the_search_once(client, bearer):
    """A searched list's synchronous export (round 8): the name search is in one statement of the request
    (it was in the COUNT and again under the export's household query); the workbook holds its households."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangpin.testing import factories as f

    hh = f.household(f.VILLAGE_A1, household_type="一般农户")
    f.person(hh, name="欧阳春花")
    f.person(f.household(f.VILLAGE_A1, household_type="一般农户"), name="司马秋月")
    h = bearer("cadre_a1")
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/api/v1/households/export?q=欧阳", **h)
    assert r.status_code == 200
    cells = _cells(b"".join(r.streaming_content))
    assert len(cells) == 3 and "欧阳春花" in cells[2] and "司马秋月" not in str(cells)  # title, header, row
    searched = [  # the audit event records the filter (欧阳) too: not a search
        q["sql"] for q in ctx.captured_queries if "欧阳" in q["sql"] and "audit_auditevent" not in q["sql"]
    ]
    assert len(searched) == 1, searched
