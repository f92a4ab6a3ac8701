"""`fangpin case …`: the case screens' capabilities from the command line (same services, same rules)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from fangpin.core import clock
from fangpin.monitoring.models import Case, CaseStatus, Lead
from fangpin.monitoring.tests.helpers import poor_exited_household

TODAY = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def run(*args) -> str:
    out = io.StringIO()
    call_command("case", *args, stdout=out)
    return out.getvalue()


def step(case_id: int, name: str, on: str, data: dict | None = None) -> str:
    extra = ["--data", json.dumps(data)] if data is not None else []
    return run("step", str(case_id), name, "--as", "cadre_a1", "--on", on, *extra)


def test_report_open_steps_batch_and_approve_from_the_command_line(personas):
    hh = poor_exited_household(per_capita=4000)
    d = dt.date(2025, 2, 3)
    run("report", hh.household_no, "--risk", "因病", "--as", "cadre_a1", "--on", d.isoformat())
    lead = Lead.objects.get(household=hh)
    run("open", str(lead.id), "--as", "cadre_a1", "--on", d.isoformat())
    case = Case.objects.get(lead=lead)
    assert str(case.id) in run("awaiting", "--as", "cadre_a1")
    step(case.id, "verify", "2025-02-04", {"risk_types": ["因病"]})
    step(case.id, "compare", "2025-02-05")
    meeting = {"meeting_on": "2025-02-06", "attendance": 10, "votes_for": 4}
    with pytest.raises(CommandError, match="评议未通过"):
        step(case.id, "deliberate", "2025-02-06", meeting)
    meeting["votes_for"] = 9
    step(case.id, "deliberate", "2025-02-06", meeting)
    step(case.id, "publicize", "2025-02-12")
    preview = run("batch", "township", str(case.id), "--preview", "--as", "township_a", "--on", "2025-02-13")
    assert "转入“县级审定”" in preview and Case.objects.get(pk=case.id).current_step == "township"
    run("batch", "township", str(case.id), "--as", "township_a", "--on", "2025-02-13")
    run("step", str(case.id), "county", "--as", "county_reviewer", "--on", "2025-02-14")
    assert Case.objects.get(pk=case.id).status == CaseStatus.APPROVED
    with pytest.raises(CommandError, match="不存在或无权访问"):
        run("report", hh.household_no, "--risk", "因病", "--as", "cadre_b1")
    assert "帮扶责任人" in run("assign", hh.household_no, "helper_a1", "--as", "township_a")
    obj = Case.objects.get(pk=case.id).monitoring_object
    assert "医疗救助/医保补贴" in run(
        "measure", str(obj.id), "医疗救助/医保补贴", "--as", "cadre_a1", "--amount", "500"
    )
    with pytest.raises(
        CommandError, match="识别纳入不满6个月"
    ):  # six months enrolled, income stable: refused, reasons listed
        run("eliminate", str(obj.id), "--as", "cadre_a1")


def test_change_requests_from_the_command_line(personas):
    hh = poor_exited_household(per_capita=4000)
    out = run_change(
        "submit",
        hh.household_no,
        "--kind",
        "condition",
        "--set",
        "house_grade=C",
        "--reason",
        "鉴定",
        "--evidence",
        "鉴定书1号",
        "--as",
        "cadre_a1",
    )
    assert "待审批" in out
    listed = run_change("list", "--as", "township_a")
    assert "住房安全等级" in listed and "→ C" in listed
    rid = listed.split()[0]
    with pytest.raises(CommandError, match="无权执行此操作"):  # a village cadre cannot approve at all
        run_change("approve", rid, "--as", "cadre_a1")
    assert "已生效" in run_change("approve", rid, "--as", "township_a")
    hh.refresh_from_db()
    assert hh.house_grade == "C"


def run_change(*args) -> str:
    out = io.StringIO()
    call_command("change", *args, stdout=out)
    return out.getvalue()
