"""The county's main journey in Chromium, every step through the screens: the household's 自主申报 (on its
behalf, with the signed 承诺授权书's photo) →
入户核查 → 信息比对 → 民主评议 → 村内公示 (with an objection, paused and resumed) → 乡镇审核 as a batch with a
preview → 县级审定 → enrolment → a measure, carried out → 风险消除 through the same chain → a 回退 proposed.

Dates are typed as business dates (the paper process entered afterwards): the identification starts 240
days ago so that the elimination guards (six months enrolled, income stable for six months) can hold."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

PICK = """
import datetime as dt
from fangpin.core import clock
from fangpin.monitoring.models import Lead, MonitoringObject
from fangpin.registry.models import Household
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_assess
today = clock.today()
for hh in Household.objects.filter(village_id="{village}", status="active").order_by("id"):
    if MonitoringObject.objects.filter(household=hh).exists() or Lead.objects.filter(household=hh).exists():
        continue
    if not hh.persons.filter(is_member=True, relation="户主").exists():
        continue
    fine = True
    for i in range(8):
        a = household_income_assess(hh, month=clock.add_months(clock.month_start(today), -i))
        if a.result.months_covered == 0 or a.below_line or a.below_line_after_rigid:
            fine = False
            break
    g, _ = household_guarantees_assess(hh, on=today)
    if fine and g.ok:
        print("HH", hh.id, hh.household_no)
        break
"""


def _server_today(page) -> dt.date:
    return dt.date.fromisoformat(page.locator("input[name=on]").first.get_attribute("max"))


def _d(day: dt.date) -> str:
    return day.isoformat()


def _complete(page, on: dt.date, **fields):
    form = page.locator("#step-form form").first
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(str(value))
    form.locator("input[name=on]").fill(_d(on))
    form.locator("#complete-step").click()
    page.wait_for_load_state()


@pytest.fixture(scope="module")
def journey_household(e2e_server):
    village = e2e_server.regions["village_cadre"]
    out = e2e_server.shell(PICK.replace("{village}", village))
    line = next((x for x in out.splitlines() if x.startswith("HH ")), None)
    assert line, f"no household in {village} fits the journey: {out}"
    _, hid, no = line.split()
    return int(hid), no


def test_identification_to_elimination(page_as, shoot, journey_household):
    hid, household_no = journey_household
    cadre = page_as("village_cadre")

    # search-first: find the household by part of its 户编号
    cadre.goto("/households/")
    cadre.fill("input[name=q]", household_no[-8:])
    cadre.click("form.search button")
    cadre.click(f"text={household_no}")
    assert cadre.url.endswith(f"/households/{hid}/")
    shoot(cadre, "household-file")
    today = _server_today(cadre)
    t0 = today - dt.timedelta(days=240)

    # 1. the household applies (农户自主申报, the cadre filling the form on its behalf on the village phone),
    #    with the photo of the signed 承诺授权书, dated when the paper application was received
    cadre.goto("/apply/")
    cadre.select_option("#household_id", str(hid))
    cadre.fill("#applicant", "户主本人")
    cadre.check("input[name=risk_types][value=因病]")
    cadre.fill("#difficulties", "户主突发重病住院，医疗费用支出大")
    cadre.set_input_files("#photo", str(DATA / "承诺授权书.jpg"))
    cadre.fill("#signed_by_name", "户主本人")
    cadre.fill("#signed_on", _d(t0))
    cadre.fill("#on", _d(t0))
    cadre.click("#submit-apply")
    cadre.wait_for_selector("#ack-no")
    assert cadre.locator("#ack-no").inner_text().strip().startswith("SQ" + t0.strftime("%Y%m%d"))
    cadre.goto(f"/households/{hid}/")
    cadre.click("text=核实处理")
    shoot(cadre, "lead")
    # 2. 入户核查 starts the identification procedure
    opener = cadre.locator("form:has(input[value=open])")
    opener.locator("input[name=on]").fill(_d(t0))
    opener.locator("button").click()
    assert "已启动识别程序" in cadre.inner_text(".messages")
    case_url = cadre.url
    cadre.select_option("#step-form select[name=category]", "突发严重困难户")
    _complete(
        cadre,
        t0 + dt.timedelta(days=1),
        override_reason="户主突发重病，大额医疗支出，收入虽高于监测线但存在返贫风险",
        findings="入户核查：户主住院治疗，家庭劳动力减少",
    )
    assert "本环节已完成" in cadre.inner_text(".messages"), cadre.inner_text("main")
    shoot(cadre, "case-compare")
    # 3. 信息比对 (no exclusion criterion applies)
    _complete(cadre, t0 + dt.timedelta(days=2), note="与医保、民政数据比对无异常")
    # 4. 民主评议: a failing vote is refused with the rule's own message, then a valid meeting passes
    meeting = _d(t0 + dt.timedelta(days=3))
    _complete(
        cadre, t0 + dt.timedelta(days=3), meeting_on=meeting, attendance=12, votes_for=5, votes_against=7
    )
    assert "评议未通过" in cadre.inner_text(".messages")
    shoot(cadre, "case-deliberate")
    _complete(
        cadre, t0 + dt.timedelta(days=3), meeting_on=meeting, attendance=12, votes_for=11, votes_against=1
    )
    assert "本环节已完成" in cadre.inner_text(".messages")
    # 5. 村内公示: printable masked notice, an objection pauses it, the village resumes it
    with cadre.expect_popup() as pop:
        cadre.click("text=打印公示（已脱敏）")
    notice = pop.value
    notice.wait_for_load_state()
    shoot(notice, "publicity-notice")
    assert "公示" in notice.inner_text("h1") and "*" in notice.inner_text("table")
    notice.close()
    objection = cadre.locator("#objections form")
    objection.locator("textarea[name=text]").fill("邻居反映该户有车辆")
    objection.locator("input[name=on]").fill(_d(t0 + dt.timedelta(days=4)))
    objection.locator("button").click()
    assert "程序暂停" in cadre.inner_text(".messages")
    resume = cadre.locator("#objections form")
    resume.locator("textarea[name=reason]").fill("经核实车辆为农用三轮车，异议不成立")
    resume.locator("input[name=on]").fill(_d(t0 + dt.timedelta(days=5)))
    resume.locator("button").click()
    assert "恢复办理" in cadre.inner_text(".messages")
    _complete(cadre, t0 + dt.timedelta(days=12), start_on=_d(t0 + dt.timedelta(days=3)))
    assert "本环节已完成" in cadre.inner_text(".messages"), cadre.inner_text("main")

    # 6. 乡镇审核 as a batch: preview first, then confirm
    town = page_as("township_reviewer")
    town.goto("/cases/?awaiting=me&step=township")
    town.locator(f"tr:has-text('{household_no}') input[name=case_ids]").check()
    town.click("text=预览批量办理")
    assert "转入“县级审定”" in town.inner_text("#batch-preview")
    shoot(town, "batch-preview")
    town.fill("input[name=on]", _d(t0 + dt.timedelta(days=13)))
    town.click("text=确认批量办理")
    assert "已批量办理1件" in town.inner_text(".messages")

    # 7. 县级审定 enrols the household
    county = page_as("county_reviewer")
    county.goto(case_url)
    _complete(county, t0 + dt.timedelta(days=14))
    assert "已审定通过" in county.inner_text(".messages")
    shoot(county, "case-approved")
    county.click("text=监测对象")
    assert "监测中" in county.inner_text("main") and "突发严重困难户" in county.inner_text("main")
    object_url = county.url

    # 8. a measure, carried out
    cadre.goto(object_url)
    form = cadre.locator("#measure-form")
    form.locator("select[name=name]").select_option("医疗救助/医保补贴")
    form.locator("input[name=amount]").fill("3000")
    form.locator("input[name=on]").fill(_d(t0 + dt.timedelta(days=15)))
    form.locator("button").click()
    assert "已添加帮扶措施" in cadre.inner_text(".messages")
    cadre.locator("#measures button:has-text('已落实')").click()
    assert "已落实" in cadre.inner_text("#measures")
    shoot(cadre, "monitoring-object")

    # 9. 风险消除 through the same chain
    e0 = today - dt.timedelta(days=20)
    elim = cadre.locator("form:has(input[value=eliminate])")
    elim.locator("input[name=on]").fill(_d(e0))
    elim.locator("button").click()
    assert "已启动风险消除程序" in cadre.inner_text(".messages"), cadre.inner_text("main")
    elim_url = cadre.url
    _complete(cadre, e0 + dt.timedelta(days=1), findings="收入稳定，医疗费用已报销")
    e2 = _d(e0 + dt.timedelta(days=2))
    _complete(cadre, e0 + dt.timedelta(days=2), meeting_on=e2, attendance=10, votes_for=10, votes_against=0)
    _complete(cadre, e0 + dt.timedelta(days=9), start_on=e2)
    town.goto(elim_url)
    _complete(town, e0 + dt.timedelta(days=10))
    county.goto(elim_url)
    _complete(county, e0 + dt.timedelta(days=11))
    assert "风险消除已审定通过" in county.inner_text(".messages")

    # the household file tells the whole story in one timeline
    county.goto(f"/households/{hid}/")
    timeline = county.inner_text("#timeline")
    for text in (
        "风险线索（农户自主申报）",
        "公示期异议",
        "纳入监测对象（突发严重困难户）",
        "帮扶措施：医疗救助/医保补贴",
        "风险消除",
    ):
        assert text in timeline, text
    assert "风险已消除" in county.inner_text("#monitoring")
    shoot(county, "household-file-after")

    # 10. a 风险消除回退 proposed by the village starts the same chain again
    cadre.goto(object_url)
    rev = cadre.locator("form:has(input[value=reverse])")
    rev.locator("textarea[name=reason]").fill("回头看发现户主病情复发，医疗支出再次增加")
    rev.locator("button").click()
    assert "已启动风险消除回退程序" in cadre.inner_text(".messages")
    assert cadre.locator("h1").inner_text().startswith("风险消除回退")
    assert "办理：入户核实" in cadre.inner_text("#step-form")
