import datetime as dt
import re

import pytest
from django.core.management import call_command

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import NotFound
from fangpin.testing import factories as f
from fangpin.trust.mingbaizhi import mingbaizhi_render
from fangpin.trust.services import integrations

ON = dt.date(2025, 6, 1)


def _family():
    hh = f.household(f.VILLAGE_A1, house_grade="D", household_no="410506205201000777")
    head = f.person(hh, name="张建国", birth=dt.date(1970, 3, 2))
    f.person(
        hh, name="李秀英", gender="F", relation="配偶", birth=dt.date(1972, 4, 5), medical_resident=False
    )
    f.income(
        hh, year=2024, wage=6000, production_business=2000, transfer_pension=800, production_expense=1000
    )
    return hh, head


@pytest.mark.django_db
def test_mingbaizhi_in_chinese_with_masked_identifiers_and_audited(personas, monkeypatch):
    monkeypatch.setattr(
        integrations,
        "household_monitoring_summary",
        lambda household, on: {
            "status": "监测帮扶中",
            "category": "脱贫不稳定户",
            "identified_on": "2025年1月",
            "risk_types": ["因病", "因安全住房"],
            "measures": [{"name": "医疗救助/医保补贴", "detail": "医保个人缴费资助", "status": "实施中"}],
        },
    )
    hh, head = _family()
    html = mingbaizhi_render(actor=personas["cadre_a1"], household_id=hh.pk, on=ON)
    assert "防止返贫监测帮扶明白纸" in html and "脱贫不稳定户" in html and "因病、因安全住房" in html
    assert "张*国" in html and "李*英" in html and "张建国" not in html
    assert head.id_number not in html and head.id_number[:6] + "********" + head.id_number[-4:] in html
    assert not re.search(r"\d{17}[\dX]", html.replace(hh.household_no, ""))  # no ID number anywhere
    # why: income against the line with the figures, and which guarantee fails
    assert (
        "3,900.00" in html and "7,600.00" in html and "低于" in html
    )  # (6000+2000+800-1000)/2 vs the 2025 line
    assert "住房安全有保障：未达标——住房鉴定为D级危房" in html
    assert "基本医疗有保障：未达标" in html and "李秀英" not in html
    assert "医疗救助/医保补贴" in html and "不少于6个月" in html
    assert (
        AuditEvent.objects.filter(
            event_type="trust.mingbaizhi_view", household_id=hh.pk, actor=personas["cadre_a1"]
        ).count()
        == 1
    )
    with pytest.raises(NotFound):
        mingbaizhi_render(actor=personas["cadre_b1"], household_id=hh.pk, on=ON)


@pytest.mark.django_db
def test_mingbaizhi_cli(tmp_path, monkeypatch):
    monkeypatch.setattr(integrations, "household_monitoring_summary", lambda household, on: None)
    hh, _ = _family()
    out = tmp_path / "mbz.html"
    call_command("mingbaizhi", hh.household_no, "--out", str(out), "--on", "2025-06-01")
    text = out.read_text(encoding="utf-8")
    assert "未纳入防止返贫监测对象" in text and "暂无登记的帮扶措施" in text and "张*国" in text
    ev = AuditEvent.objects.get(event_type="trust.mingbaizhi_view", household_id=hh.pk)
    assert ev.actor is None and ev.data["via"] == "cli"
