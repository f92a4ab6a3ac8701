"""Export jobs (下载中心): above the row threshold an export is a background job whose workbook is the same as
the synchronous export's, kept encrypted at rest, fetched by its requester only (anyone else: 404, audited),
every fetch audited with rows and SHA-256, deleted after the retention period."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from fangpin.accounts.actors import system_actor
from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound
from fangpin.core.retention import retention_purge
from fangpin.policy.params import parameter_set
from fangpin.registry.models import ExportJob, ExportJobStatus
from fangpin.registry.services import export_jobs as svc
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


@pytest.fixture
def village(db):
    a = f.household(f.VILLAGE_A1, household_type="一般农户", phone="13800001111")
    f.person(a, name="欧阳春花", phone="13912345678")
    f.person(a, name="欧阳小明", relation="之子", birth=dt.date(2010, 2, 3))
    b = f.household(f.VILLAGE_A1, household_type="一般农户", phone="13800002222")
    f.person(b, name="欧阳秋月", phone="13987654321")
    c = f.household(f.VILLAGE_B1, household_type="一般农户")
    f.person(c, name="欧阳冬雪")
    return a, b, c


@pytest.fixture
def small_threshold(personas):
    """The policy parameter set to 2 rows: the village's three members make a job."""
    parameter_set(actor=personas["county_admin"], key=svc.JOB_ROWS, value=2, year=TODAY.year, basis="测试")
    assert svc.export_job_rows(on=TODAY) == 2


def _cells(content: bytes) -> list[tuple]:
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    return rows[:1] + rows[2:]  # row 2 is the subtitle with the minute of the export


def _body(resp) -> bytes:
    return b"".join(resp.streaming_content)


def _job_export(client, url, capture) -> tuple[ExportJob, object]:
    with capture(execute=True):  # the job is queued on commit (Huey runs it at once in tests)
        r = client.get(url)
    return ExportJob.objects.order_by("-id").first(), r


def test_above_the_threshold_the_web_export_is_a_job_with_the_same_workbook(
    client, personas, village, small_threshold, django_capture_on_commit_callbacks
):
    a, b, c = village  # and a household without members, and a cancelled one with a 欧阳
    client.force_login(personas["cadre_a1"])
    job, r = _job_export(client, "/households/export/?q=欧阳", django_capture_on_commit_callbacks)
    assert r.status_code == 302 and r["Location"] == f"/households/exports/{job.pk}/"
    assert job.status == ExportJobStatus.DONE and job.rows == 3 and job.households == 2
    assert job.estimated_rows == 3 and job.filters == {"q": "欧阳"}
    page = client.get(r["Location"]).content.decode()
    assert "已完成" in page and f"/households/exports/{job.pk}/download/" in page and "hx-trigger" not in page
    assert "筛选：检索词=欧阳" in page
    got = client.get(f"/households/exports/{job.pk}/download/")
    assert got.status_code == 200
    content = _body(got)
    assert hashlib.sha256(content).hexdigest() == job.sha256
    # the same filter below the threshold: the synchronous export, the same workbook
    parameter_set(actor=personas["county_admin"], key=svc.JOB_ROWS, value=100, year=TODAY.year, basis="测试")
    sync = client.get("/households/export/?q=欧阳")
    assert sync.status_code == 200 and sync.get("Content-Disposition", "").startswith("attachment")
    assert _cells(_body(sync)) == _cells(content)
    assert c.household_no not in str(_cells(content)) and a.household_no in str(_cells(content))
    assert ExportJob.objects.count() == 1


def test_the_countys_own_threshold_wins_over_the_national_default(
    client, personas, village, django_capture_on_commit_callbacks
):
    """The threshold is a parameter like any other: a county's own value applies to its villages' exports
    (web and API), the national default elsewhere."""
    admin = personas["county_admin"]
    parameter_set(actor=admin, key=svc.JOB_ROWS, value=100, year=TODAY.year, basis="测试")
    parameter_set(
        actor=admin, key=svc.JOB_ROWS, value=2, region_code=f.COUNTY[:6], year=TODAY.year, basis="测试"
    )
    assert svc.export_job_rows(on=TODAY) == 100
    assert svc.export_job_rows(on=TODAY, region_code=f.VILLAGE_A1) == 2
    client.force_login(personas["cadre_a1"])
    job, r = _job_export(client, "/households/export/?q=欧阳", django_capture_on_commit_callbacks)
    assert r.status_code == 302 and job.rows == 3  # 3 members > the county's 2: a job
    from fangpin.api.tokens import token_issue

    cadre = personas["cadre_a1"]
    token = token_issue(actor=cadre, user=cadre, name="t", days=1, on=TODAY)[1]
    api = client.get("/api/v1/households/export?q=欧阳", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 202


def test_job_events_record_rows_and_digest_and_every_fetch(
    client, personas, village, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(personas["cadre_a1"])
    job, _ = _job_export(client, "/households/export/", django_capture_on_commit_callbacks)
    queued = AuditEvent.objects.get(event_type="registry.export_job", object_id=str(job.pk))
    assert queued.actor == personas["cadre_a1"] and queued.data["estimated_rows"] == 3
    written = AuditEvent.objects.filter(event_type="registry.export").last()
    assert written.data["rows"] == 3 and written.data["sha256"] == job.sha256
    assert written.data["filters"]["job"] == str(job.pk) and written.data["masked"] is True
    for _ in range(2):
        assert client.get(f"/households/exports/{job.pk}/download/").status_code == 200
    fetches = AuditEvent.objects.filter(event_type="registry.export_download", result="ok")
    assert fetches.count() == 2
    assert fetches.last().data == {
        "job": job.pk, "rows": 3, "households": 2, "sha256": job.sha256, "masked": True,
    }  # fmt: skip
    job.refresh_from_db()
    assert job.downloads == 2


@pytest.mark.parametrize("other", ["cadre_a2", "county_admin"])
def test_another_user_gets_404_and_an_audit_record(
    client, personas, village, small_threshold, django_capture_on_commit_callbacks, other
):
    client.force_login(personas["cadre_a1"])
    job, _ = _job_export(client, "/households/export/", django_capture_on_commit_callbacks)
    client.force_login(personas[other])
    for url in (f"/households/exports/{job.pk}/", f"/households/exports/{job.pk}/status/",
                f"/households/exports/{job.pk}/download/"):  # fmt: skip
        before = AuditEvent.objects.filter(event_type="access.refused").count()
        r = client.get(url)
        assert r.status_code == 404 and "不存在或无权访问" in r.content.decode()
        ev = AuditEvent.objects.filter(event_type="access.refused").last()
        assert AuditEvent.objects.filter(event_type="access.refused").count() == before + 1
        assert ev.actor == personas[other] and ev.object_id == str(job.pk) and ev.data["exists"] is True
    assert f"/households/exports/{job.pk}/" not in client.get("/households/exports/").content.decode()
    assert not AuditEvent.objects.filter(event_type="registry.export_download").exists()
    with pytest.raises(NotFound):
        svc.export_job_open(actor=personas[other], job_id=job.pk)


def test_the_stored_file_holds_no_clear_id_number_or_phone(
    client, personas, village, small_threshold, django_capture_on_commit_callbacks, settings, tmp_path
):
    from fangpin.registry.models import Person

    settings.FANGPIN_FILES_DIR = str(tmp_path)  # only this export's files (not other tests' reject reports)

    client.force_login(personas["county_admin"])  # allowed to export in clear
    job, _ = _job_export(client, "/households/export/?unmasked=1", django_capture_on_commit_callbacks)
    assert job.status == ExportJobStatus.DONE and job.unmasked
    stored = (Path(settings.FANGPIN_FILES_DIR) / job.file_path).read_bytes()
    assert stored.startswith(b"FPBK\x01")
    clear = _body(client.get(f"/households/exports/{job.pk}/download/"))
    import zipfile

    with zipfile.ZipFile(io.BytesIO(clear)) as z:
        sheet = b"".join(z.read(n) for n in z.namelist())
    people = list(Person.objects.filter(is_member=True))
    assert all(p.id_number.encode() in sheet for p in people)  # the workbook is in clear…
    for p in people:  # …its stored bytes are not
        assert p.id_number.encode() not in stored and p.id_number[-8:].encode() not in stored
    for phone in ("13800001111", "13912345678", "13987654321"):
        assert phone.encode() in sheet and phone.encode() not in stored
    assert not re.search(rb"\d{17}[\dX]", stored.replace(job.sha256.encode(), b""))
    leftovers = [p for p in Path(settings.FANGPIN_FILES_DIR).rglob("*.xlsx")]
    assert leftovers == []  # no clear workbook stays on disk


def test_an_altered_file_is_refused_and_audited(
    client, personas, village, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(personas["cadre_a1"])
    job, _ = _job_export(client, "/households/export/", django_capture_on_commit_callbacks)
    path = Path(settings.FANGPIN_FILES_DIR) / job.file_path
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(DomainError, match="已损坏"):
        svc.export_job_open(actor=personas["cadre_a1"], job_id=job.pk)
    assert AuditEvent.objects.filter(event_type="registry.export_download", result="failed").exists()


def test_purge_deletes_the_file_after_the_retention_period(
    client, personas, village, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(personas["cadre_a1"])
    job, _ = _job_export(client, "/households/export/", django_capture_on_commit_callbacks)
    path = Path(settings.FANGPIN_FILES_DIR) / job.file_path
    finished = job.finished_at.date()
    res = retention_purge(actor=system_actor("retention_purge"), on=finished + dt.timedelta(days=7))
    assert res.exports == [] and path.exists()
    res = retention_purge(actor=system_actor("retention_purge"), on=finished + dt.timedelta(days=9))
    assert res.exports == [job.pk] and not path.exists()
    job.refresh_from_db()
    assert job.status == ExportJobStatus.PURGED and job.file_path == "" and job.sha256  # the record stays
    ev = AuditEvent.objects.filter(event_type="security.retention_purge").last()
    assert ev.data["exports"] == [job.pk]
    r = client.get(f"/households/exports/{job.pk}/download/", follow=True)
    assert "已过保留期限" in r.content.decode()


def test_the_job_reruns_the_filter_as_its_requester(personas, village, small_threshold):
    a, b, c = village  # and a household without members, and a cancelled one with a 欧阳
    job = svc.export_job_create(actor=personas["cadre_a1"], on=TODAY, filters={}, queue=False)
    job = svc.export_job_run(job.pk)
    assert job.households == 2  # 村A1 only, though the filter is empty
    assert svc.export_job_run(job.pk).finished_at == job.finished_at  # run once


def test_cli_create_list_status_and_fetch(personas, village, tmp_path, capsys):
    call_command("export_jobs", "create", "--as", "cadre_a1", "--q", "欧阳", "--run")
    job = ExportJob.objects.get()
    assert job.status == ExportJobStatus.DONE and job.rows == 3
    call_command("export_jobs", "list", "--as", "cadre_a1")
    assert f"#{job.pk}\t已完成" in capsys.readouterr().out
    out = tmp_path / "x.xlsx"
    call_command("export_jobs", "fetch", str(job.pk), str(out), "--as", "cadre_a1")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == job.sha256
    with pytest.raises(CommandError, match="不存在或无权访问"):
        call_command("export_jobs", "fetch", str(job.pk), str(tmp_path / "y.xlsx"), "--as", "cadre_a2")
    assert not (tmp_path / "y.xlsx").exists()


def _job(user, *, status, created_ago=0, started_ago=None, now):
    j = svc.export_job_create(actor=user, on=TODAY, filters={}, queue=False)
    ExportJob.objects.filter(pk=j.pk).update(
        status=status,
        created_at=now - dt.timedelta(minutes=created_ago),
        started_at=None if started_ago is None else now - dt.timedelta(minutes=started_ago),
    )
    return j.pk


def test_the_sweep_fails_jobs_whose_consumer_died_and_nothing_else(personas, village, tmp_path, monkeypatch):
    """Jobs queued or running longer than the parameter (30 min) before the time passed in are marked failed
    with a Chinese reason the 下载中心 shows, audited; younger or finished jobs are left alone; the Huey
    consumer delivering a swept job later does nothing; a run that finishes after the sweep keeps the
    sweep's answer and leaves no file behind."""
    monkeypatch.setattr(settings, "FANGPIN_FILES_DIR", tmp_path)
    from django.utils import timezone

    user = personas["county_admin"]
    now = timezone.make_aware(dt.datetime(2025, 3, 10, 12, 0))
    old_queued = _job(user, status="queued", created_ago=31, now=now)
    young_queued = _job(user, status="queued", created_ago=29, now=now)
    old_running = _job(user, status="running", created_ago=90, started_ago=45, now=now)
    young_running = _job(user, status="running", created_ago=90, started_ago=5, now=now)
    done = _job(user, status="done", created_ago=300, started_ago=290, now=now)
    assert svc.export_job_stale_minutes(on=TODAY) == 30
    swept = svc.export_job_sweep(actor=system_actor("export_jobs_sweep"), now=now)
    assert swept == [old_queued, old_running]
    status = dict(ExportJob.objects.values_list("pk", "status"))
    assert status == {old_queued: "failed", young_queued: "queued", old_running: "failed",
                      young_running: "running", done: "done"}  # fmt: skip
    gone = ExportJob.objects.get(pk=old_queued)
    assert gone.message.startswith("导出任务排队超过30分钟未完成") and gone.finished_at == now
    assert "生成超过30分钟" in ExportJob.objects.get(pk=old_running).message
    evs = AuditEvent.objects.filter(event_type="registry.export_job", result="failed")
    assert sorted(int(e.object_id) for e in evs) == [old_queued, old_running]
    assert all(e.data["swept"] and e.reason.startswith("导出任务") for e in evs)
    assert svc.export_job_sweep(actor=system_actor("export_jobs_sweep"), now=now) == []  # once
    # the consumer delivering the swept job later: nothing happens, no file
    assert svc.export_job_run(old_queued).status == ExportJobStatus.FAILED
    assert not list(tmp_path.rglob("*.sm4"))
    # a job swept while it runs: its late finish keeps the sweep's answer and removes its file
    late = _job(user, status="queued", now=now)
    from fangpin.registry.io import export as export_mod

    original = export_mod.registry_export

    def slow_export(**kw):
        res = original(**kw)
        later = timezone.now() + dt.timedelta(hours=2)
        svc.export_job_sweep(actor=system_actor("export_jobs_sweep"), now=later)
        return res

    monkeypatch.setattr(export_mod, "registry_export", slow_export)
    job = svc.export_job_run(late)
    assert job.status == ExportJobStatus.FAILED and "生成超过30分钟" in job.message and not job.file_path
    assert not list(tmp_path.rglob("*.sm4"))


def test_the_sweep_from_the_command_line_and_the_periodic_job(personas, village):
    from django.utils import timezone

    from fangpin.registry.tasks import export_jobs_sweep_periodic

    user = personas["county_admin"]
    now = timezone.make_aware(dt.datetime(2025, 3, 10, 12, 0))
    a = _job(user, status="queued", created_ago=20, now=now)
    out = io.StringIO()
    call_command("export_jobs", "sweep", "--at", "2025-03-10T12:00", stdout=out)
    assert "已将0个" in out.getvalue() and ExportJob.objects.get(pk=a).status == "queued"
    call_command("export_jobs", "sweep", "--minutes", "10", "--at", "2025-03-10T12:00", stdout=out)
    assert f"#{a}" in out.getvalue() and "10分钟" in ExportJob.objects.get(pk=a).message
    with pytest.raises(CommandError, match="不是有效时刻"):
        call_command("export_jobs", "sweep", "--at", "noon")
    b = _job(user, status="queued", created_ago=60 * 24, now=timezone.now())
    export_jobs_sweep_periodic.call_local()  # what the consumer runs every 10 minutes
    assert ExportJob.objects.get(pk=b).status == "failed"


def test_export_targets_count_and_export_what_the_filter_did(personas, village, tmp_path):
    """``export_targets`` (round 8: the search run once, its ids reused) gives ``export_estimate``'s count
    and, handed to ``registry_export``, the workbook and audit figures of the export over the filter's
    queryset; an inactive household and one without members count and export as before; more households than
    the limit: the count and the queryset of the filter itself."""
    from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
    from fangpin.registry.io.export import registry_export

    a, b, c = village  # and a household without members, and a cancelled one with a 欧阳
    f.household(f.VILLAGE_A1, household_type="一般农户")
    gone = f.household(f.VILLAGE_A1, household_type="一般农户", status="cancelled")
    f.person(gone, name="欧阳已迁")
    actor = personas["cadre_a1"]
    for q in ("欧阳", "春花", "无此人"):
        qs = household_search_qs(actor=actor, f=HouseholdFilter.from_params({"q": q}), on=TODAY, gate=False)
        rows, targets = svc.export_targets(qs, limit=100)
        assert isinstance(targets, list) and rows == svc.export_estimate(qs)
        assert sorted(targets) == sorted(qs.values_list("pk", flat=True))
        old = registry_export(
            actor=actor, out_path=tmp_path / "old.xlsx", on=TODAY, households=qs.values("pk")
        )
        new = registry_export(actor=actor, out_path=tmp_path / "new.xlsx", on=TODAY, households=targets)
        assert (new.rows, new.households, new.columns) == (old.rows, old.households, old.columns)
        assert new.rows == rows
        assert _cells(new.path.read_bytes()) == _cells(old.path.read_bytes())
    qs = household_search_qs(actor=actor, f=HouseholdFilter.from_params({}), on=TODAY, gate=False)
    rows, targets = svc.export_targets(qs, limit=1)  # more than one household
    assert rows == svc.export_estimate(qs) == 3 and not isinstance(targets, list)
    assert sorted(targets.values_list("pk", flat=True)) == sorted(qs.values_list("pk", flat=True))


def test_export_jobs_read_parameters_through_the_process_cache_and_see_a_change(
    personas, village, small_threshold
):
    """Export jobs read the parameters as a web request does (``param_cache``): a village's once in the
    process, not again in the next job (only the stamp); a parameter set meanwhile is read again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f.person(f.household(f.VILLAGE_A2, household_type="一般农户"), name="欧阳夏至")
    admin = personas["county_admin"]

    def run() -> list[str]:
        job = svc.export_job_create(actor=admin, on=TODAY, filters={}, queue=False)
        with CaptureQueriesContext(connection) as q:
            assert svc.export_job_run(job.pk).households == 4  # three villages
        return [x["sql"] for x in q.captured_queries if '"policy_parameter"."key" =' in x["sql"]]

    first = run()
    assert sum("water.max_fetch_minutes" in s for s in first) == 3  # once for each village
    assert run() == []  # the next job: the process's values
    parameter_set(actor=admin, key="water.max_fetch_minutes", value=1, year=TODAY.year, basis="测试")
    assert sum("water.max_fetch_minutes" in s for s in run()) == 3  # read again after the change
