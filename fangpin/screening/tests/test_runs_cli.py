from __future__ import annotations

import pytest
from django.core.management import call_command

from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.screening.models import DeptBatch, RunStatus, ScreeningRun
from fangpin.screening.selectors import run_get
from fangpin.screening.services.runs import E_MONTH, screening_run_start
from fangpin.screening.testing.depts import registry_slice


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
    assert "规则 WATER_INTERRUPTED: 推送线索 1" in out
    assert "部门事实与户档案不一致 0" in out  # 水利 states no registry fact
    run = ScreeningRun.objects.get()
    assert run.status == RunStatus.DONE and run.progress == 100
    assert run_get(actor=personas["county_admin"], run_id=run.pk).counts["hits"] == 1


@pytest.mark.django_db
def test_run_refusals(personas):
    with pytest.raises(PermissionDenied):
        screening_run_start(actor=personas["cadre_a1"], month="2025-06")
    with pytest.raises(DomainError) as e:
        screening_run_start(actor=personas["county_admin"], month="2025/06")
    assert e.value.code == E_MONTH
    assert not ScreeningRun.objects.exists()
