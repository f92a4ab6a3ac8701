"""Report numbers counted by hand from rows written here, by township, with drill-down and suppression."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zlib
from io import BytesIO

import pytest
from openpyxl import load_workbook

from fangpin.monitoring.models import Case, Lead, LeadSource, Measure, MonitoringObject, Visit
from fangpin.reports.excel import report_xlsx
from fangpin.reports.indicators import indicator_households, indicator_table, month_period
from fangpin.reports.printable import report_html, report_pdf
from fangpin.reports.tables import monthly_progress, quarterly_bulletin
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db

MAR = dt.date(2025, 3, 10)


def _pdf_objects(pdf: bytes) -> bytes:
    """The PDF's objects with their Flate streams inflated (font names live in compressed object streams)."""
    out = [pdf]
    for m in re.finditer(rb"stream\r?\n", pdf):
        with contextlib.suppress(zlib.error):
            out.append(zlib.decompressobj().decompress(pdf[m.end() :]))
    return b"".join(out)


def _obj(hh, *, category="脱贫不稳定户", identified_on=MAR, eliminated_on=None, risk_types=("因病",)):
    return MonitoringObject.objects.create(
        household=hh,
        category=category,
        identified_on=identified_on,
        status="eliminated" if eliminated_on else "active",
        eliminated_on=eliminated_on,
        origin="procedure",
        risk_types=list(risk_types),
    )


@pytest.fixture
def county(personas):
    """马家乡 (A): 3 objects — 2 new in March (one 边缘), 1 old one eliminated in March; a protection measure
    on one. 龙泉镇 (B): 1 object from 2024, still monitored; one self-application lead in March."""
    a = [f.household(f.VILLAGE_A1) for _ in range(3)]
    for hh in a:
        f.person(hh)
        f.person(hh, name="李四", relation="配偶", gender="F")
    b = f.household(f.VILLAGE_B1)
    f.person(b)
    o1 = _obj(a[0])
    _obj(a[1], category="边缘易致贫户", risk_types=("因残",))
    _obj(a[2], identified_on=dt.date(2024, 5, 1), eliminated_on=dt.date(2025, 3, 20))
    _obj(b, identified_on=dt.date(2024, 6, 1), risk_types=("因学",))
    Measure.objects.create(
        monitoring_object=o1,
        household=a[0],
        name="低保",
        kind="protection",
        start_on=MAR,
        status="in_progress",
    )
    lead = Lead.objects.create(household=b, village_id=f.VILLAGE_B1, township_id=f.TOWNSHIP_B, opened_on=MAR)
    LeadSource.objects.create(lead=lead, channel="self_application", submitted_on=MAR)
    Visit.objects.create(household=b, visitor=personas["cadre_b1"], visited_on=MAR, has_risk=False)
    Case.objects.create(
        kind="identification", household=b, lead=lead, started_on=MAR, due_on=dt.date(2025, 3, 25)
    )
    return {"a": a, "b": b}


def test_monthly_numbers_by_township(county, personas):
    t = indicator_table(actor=personas["county_admin"], period=month_period(2025, 3))
    rows = {r.code: r.values for r in t.rows}
    a, b = rows[f.TOWNSHIP_A], rows[f.TOWNSHIP_B]
    assert (a["objects"], a["objects_persons"]) == (2, 4)
    assert (a["objects_unstable_exited"], a["objects_edge"]) == (1, 1)
    assert (a["new"], a["eliminated"], a["eliminated_persons"]) == (2, 1, 2)
    assert a["eliminated_share"] == pytest.approx(33.3)
    assert a["protected"] == 1
    assert a["measure_coverage"] == 50.0
    assert (b["objects"], b["leads_self_application"], b["visited"]) == (1, 1, 1)
    assert b["cases_overdue"] == 1 and b["overdue_rate"] == 100.0
    assert t.total.values["objects"] == 3
    # the list behind a number is exactly the households counted
    new_a = indicator_households(
        actor=personas["county_admin"], code="new", period=t.period, township=f.TOWNSHIP_A
    )
    assert sorted(new_a.values_list("pk", flat=True)) == sorted([county["a"][0].pk, county["a"][1].pk])


def test_a_township_sees_only_itself(county, personas):
    t = indicator_table(actor=personas["township_a"], period=month_period(2025, 3))
    assert [r.code for r in t.rows] == [f.TOWNSHIP_A]
    assert t.total.values["objects"] == 2
    none = indicator_households(
        actor=personas["township_a"], code="objects", period=t.period, township=f.TOWNSHIP_B
    )
    assert not none.exists()


def test_monthly_excel_and_pdf(county, personas):
    table = monthly_progress(actor=personas["county_admin"], year=2025, month=3)
    wb = load_workbook(BytesIO(report_xlsx(table)))
    ws = wb.worksheets[0]
    assert "月推进表（2025年3月）" in ws["A1"].value
    names = [ws.cell(row=r, column=1).value for r in range(5, 5 + len(table.rows))]
    assert names[-1] == "合计"
    total_row = 5 + len(table.rows) - 1
    assert ws.cell(row=total_row, column=2).value == 3  # 监测对象户数 total
    html = report_html(table)
    assert "马家乡" in html and "本月新识别" in html
    pdf = report_pdf(table)
    assert pdf.startswith(b"%PDF")
    assert b"WenQuanYi" in _pdf_objects(pdf)  # the CJK font is embedded, not boxes


def test_quarterly_risk_types_are_suppressed_when_published(county, personas):
    pub = quarterly_bulletin(actor=personas["county_admin"], year=2025, quarter=1)
    internal = quarterly_bulletin(actor=personas["county_admin"], year=2025, quarter=1, published=False)
    rt_pub, rt_int = pub.sections[0], internal.sections[0]
    cols = {c.label: c.key for c in rt_int.columns}
    a_int = next(r for r in rt_int.rows if r["code"] == f.TOWNSHIP_A)
    a_pub = next(r for r in rt_pub.rows if r["code"] == f.TOWNSHIP_A)
    assert a_int[cols["因病"]] == 1 and a_int[cols["因残"]] == 1
    assert a_pub[cols["因病"]] == "*" and a_pub[cols["因残"]] == "*"
    assert {r["rank"] for r in pub.rows if r["code"]} == set(range(1, len(pub.rows)))


def test_excel_neutralises_formula_like_names(county, personas):
    from fangpin.regions.models import Region

    Region.objects.filter(code=f.TOWNSHIP_A).update(name="=HYPERLINK(1)")
    try:
        table = monthly_progress(actor=personas["county_admin"], year=2025, month=3)
        ws = load_workbook(BytesIO(report_xlsx(table))).worksheets[0]
        values = [ws.cell(row=r, column=1).value for r in range(5, 5 + len(table.rows))]
        assert "'=HYPERLINK(1)" in values
    finally:
        Region.objects.filter(code=f.TOWNSHIP_A).update(name="马家乡")


def test_report_commands_write_the_files(county, personas, tmp_path):
    from django.core.management import call_command

    from fangpin.audit.models import AuditEvent

    out = tmp_path / "m.xlsx"
    call_command(
        "report_monthly", "--year", "2025", "--month", "3", "--out", str(out), "--as", "county_admin"
    )
    ws = load_workbook(out).worksheets[0]
    assert "2025年3月" in ws["A1"].value
    pdf = tmp_path / "q.pdf"
    call_command("report_quarterly", "--year", "2025", "--quarter", "1", "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert AuditEvent.objects.filter(event_type="reports.export", data__channel="cli").count() == 2
