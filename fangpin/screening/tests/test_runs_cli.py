from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.screening.models import DeptBatch, RunStatus, ScreeningRun
from fangpin.screening.selectors import run_get
from fangpin.screening.services.runs import E_MONTH, screening_run_start
from fangpin.screening.testing.depts import registry_slice

RUN_ON = dt.date(2025, 6, 30)  # the runs' business date: the end of the screened month


@pytest.mark.django_db
def test_cli_upload_and_screen(tmp_path, personas, officer, capsys):
    from fangpin.registry.models import Person

    registry_slice(households=6)
    p = Person.objects.order_by("id").first()
    f = tmp_path / "w.csv"
    f.write_text(
        f"姓名,证件号码,断水开始日期,断水天数\n{p.name},{p.id_number},2025-06-02,12\n", encoding="utf-8"
    )
    officer("水利")
    call_command("dept_upload", "water", str(f), "--period", "2025-06", "--as", "dept_水利")
    assert DeptBatch.objects.get().rows_ok == 1
    call_command("screen", "--month", "2025-06", "--dept", "water", "--as", "county_admin")
    out = capsys.readouterr().out
    assert "状态=已完成" in out and "规则 WATER_INTERRUPTED: 命中 1，推送线索 1" in out
    assert "部门事实与户档案不一致 0" in out  # 水利 states no registry fact
    run = ScreeningRun.objects.get()
    assert run.status == RunStatus.DONE and run.progress == 100
    assert run_get(actor=personas["county_admin"], run_id=run.pk).counts["hits"] == 1
    call_command("screen_show", str(run.pk), "--reviews", "--as", "county_admin")
    shown = capsys.readouterr().out
    assert f"筛查#{run.pk}" in shown and "规则 WATER_INTERRUPTED: 命中 1，推送线索 1" in shown
    assert "待复核的疑似匹配 0 条" in shown


@pytest.mark.django_db
def test_background_really_queues(personas, monkeypatch):
    import huey.contrib.djhuey as djhuey
    from huey.contrib.djhuey import HUEY

    # a worker closes its database connection around each task; inside a test that would close the test's
    # own transaction on PostgreSQL (SQLite's in-memory test database ignores it)
    monkeypatch.setattr(djhuey, "close_old_connections", lambda: None)

    # a real queue: leave immediate mode but keep its in-memory storage (the property setter would switch
    # to the configured Redis/SQLite queue, shared with other processes)
    HUEY._immediate = False
    try:
        call_command("screen", "--month", "2025-06", "--background", "--as", "county_admin")
        run = ScreeningRun.objects.get()
        assert run.status == RunStatus.QUEUED and len(HUEY) == 1
        task = HUEY.dequeue()
        HUEY.execute(task)  # what the worker does
    finally:
        HUEY.flush()
        HUEY._immediate = True
    run.refresh_from_db()
    assert run.status == RunStatus.DONE


@pytest.mark.django_db
def test_run_refusals(personas):
    with pytest.raises(PermissionDenied):
        screening_run_start(actor=personas["cadre_a1"], month="2025-06", on=RUN_ON)
    with pytest.raises(DomainError) as e:
        screening_run_start(actor=personas["county_admin"], month="2025/06", on=RUN_ON)
    assert e.value.code == E_MONTH
    assert not ScreeningRun.objects.exists()
