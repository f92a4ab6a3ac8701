"""下载中心 in the browser: a cadre's export above the row threshold becomes a job; the job page (htmx) offers
the download once the file is ready, the file is masked and matches the recorded SHA-256; the county
administrator cannot open the cadre's job (404); the job is listed in the cadre's 下载中心."""

from __future__ import annotations

import datetime as dt
import hashlib
import re


def _threshold(e2e_server, rows: int) -> None:
    e2e_server.manage("params_set", "registry.export.job_rows", str(rows), "--year", str(dt.date.today().year),
                      "--as", "county_admin", "--basis", "e2e")  # fmt: skip


def test_a_large_export_is_a_job_downloaded_from_the_download_centre(page_as, shoot, e2e_server, tmp_path):
    _threshold(e2e_server, 1)
    try:
        cadre = page_as("village_cadre")
        cadre.goto("/households/?household_type=脱贫户")
        cadre.click("a.export")
        cadre.wait_for_url(re.compile(r"/households/exports/\d+/$"))
        job_id = int(cadre.url.rstrip("/").rsplit("/", 1)[1])
        cadre.wait_for_selector("#export-download")  # htmx follows the job until the file is ready
        assert "已完成" in cadre.inner_text("#export-job-status")
        shoot(cadre, "export-job-ready")
        with cadre.expect_download() as dl:
            cadre.click("#export-download")
        path = tmp_path / "job.xlsx"
        dl.value.save_as(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest[:16] in cadre.inner_text("#export-job")
        from openpyxl import load_workbook

        rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        header_i = next(i for i, r in enumerate(rows) if r and "证件号码" in [str(c) for c in r if c])
        id_col = [str(c) if c else "" for c in rows[header_i]].index("证件号码")
        data = [r for r in rows[header_i + 1 :] if any(r)]
        assert data and all("*" in str(r[id_col]) for r in data)  # masked, as the synchronous export
        cadre.goto("/households/exports/")
        assert f"/households/exports/{job_id}/" in cadre.content()

        admin = page_as("county_admin")
        for url in (f"/households/exports/{job_id}/", f"/households/exports/{job_id}/download/"):
            r = admin.request.get(url)
            assert r.status == 404 and "不存在或无权访问" in r.text()
        out = e2e_server.shell(
            "from fangpin.audit.models import AuditEvent as A;"
            "print(A.objects.filter(event_type='access.refused', object_type='registry.exportjob',"
            f" object_id='{job_id}').count(),"
            f" A.objects.filter(event_type='registry.export_download', object_id='{job_id}').count())"
        )
        assert out.split()[-2:] == ["2", "1"]
    finally:
        _threshold(e2e_server, 2000)
