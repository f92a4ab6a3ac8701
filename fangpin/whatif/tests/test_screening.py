"""Screening thresholds in a what-if: the department screening rules run read-only over the uploaded
batches with the thresholds in force and the scenario's; the households each side flags are the ones a
real screening run flags with those thresholds (run afterwards, as the direct recomputation)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.audit.models import AuditEvent
from fangpin.policy.params import parameter_change
from fangpin.registry.models import Person
from fangpin.screening.models import DeptBatch, LinkReview, ScreeningHit, ScreeningRun
from fangpin.screening.services.runs import screening_run_start
from fangpin.screening.services.uploads import dept_batch_upload
from fangpin.testing import factories as f
from fangpin.testing.factories import COUNTY
from fangpin.whatif.services import whatif_run

pytestmark = pytest.mark.django_db

ON = dt.date(2025, 6, 30)
# 龙安区医疗保障局 结算明细 (the layout of screening/tests/fixtures/depts/medical_jiesuan_mingxi.csv)
HEADER = (
    "龙安区医疗保障局 结算明细查询（结算时间：2025-01-01至2025-06-30）,,,,,,,,,,,,,,,,\n,,,,,,,,,,,,,,,,\n"
    "人员编号,人员姓名,证件类型,证件号码,性别,出生日期,险种类型,医疗类别,定点医药机构名称,入院日期,出院日期,"
    "结算时间,医疗费总额,基金支付总额,个人负担总金额,个人自付,全自费金额\n"
)


def _row(n: int, p: Person, kind: str, day: str, oop: str) -> str:
    return (
        f"4100001100000000{n:04d},{p.name},居民身份证（户口簿）,{p.id_number},男,{p.birth_date},城乡居民基本医疗保险,"
        f"{kind},安阳市第三人民医院,{day},{day},{day} 10:00:00,20000.00,15000.00,{oop},{oop},0.00\n"
    )


@pytest.fixture
def medical(tmp_path, personas):
    """Three households: a 脱贫户 whose 住院 self-pay adds up to 4,500 this year (under the 5,000 threshold,
    over a 4,000 one), a 脱贫户 at 6,000 (over both), an 一般农户 with one 9,000 stay (the 10,000 single-stay
    threshold of other households, untouched by the scenario) and 800 of 门诊 (not 住院)."""
    people = {}
    for key, hh_type, name in (
        ("under", "脱贫户", "王建国"),
        ("over", "脱贫户", "李秀英"),
        ("other", "一般农户", "赵德福"),
    ):
        hh = f.household(household_type=hh_type)
        people[key] = f.person(hh, name=name)
    body = HEADER
    body += _row(1, people["under"], "普通住院", "2025-02-10", "2500.00")
    body += _row(2, people["under"], "普通住院", "2025-05-20", "2000.00")
    body += _row(3, people["over"], "普通住院", "2025-03-03", "6000.00")
    body += _row(4, people["other"], "普通住院", "2025-04-08", "9000.00")
    body += _row(5, people["other"], "普通门诊", "2025-04-09", "800.00")
    path = tmp_path / "结算明细_2025上半年.csv"
    path.write_text(body, encoding="utf-8-sig")
    officer, _ = User.objects.get_or_create(
        username="dept_医保", defaults={"role": Role.DEPT_OFFICER, "region_id": COUNTY, "department": "医保"}
    )
    batch = dept_batch_upload(actor=officer, kind="medical", path=path, period="2025-06", on=ON)
    assert batch.rows_ok == 5
    return {k: p.household_id for k, p in people.items()}


def _screened(c, which: str) -> set[int]:
    return {r["household_id"] for r in c.households("screened", which=which)}


def _run_hits(admin) -> set[int]:
    run = screening_run_start(actor=admin, month="2025-06", on=ON, record_facts=False)
    assert run.status == "done", run.error
    return set(ScreeningHit.objects.filter(run=run).values_list("household_id", flat=True))


def test_a_lower_medical_threshold_flags_what_a_real_run_with_it_flags(personas, medical):
    admin = personas["county_admin"]
    c = whatif_run(actor=admin, on=ON, settings={"screening.medical.exited_annual_oop": "4000"})
    assert "screened" in c.measures
    assert _screened(c, "base") == {medical["over"]}
    assert _screened(c, "scen") == {medical["over"], medical["under"]}
    t = c.total
    assert (t["base"]["screened"]["households"], t["scen"]["screened"]["households"]) == (1, 2)
    assert t["scen"]["screened"]["persons"] == 2  # one member each
    township = f.VILLAGE_A1[:9] + "000"
    row = next(r for r in c.rows if r["township"] == township)
    assert row["scen"]["screened"]["households"] == 2
    changed = {r["household_id"]: r for r in c.changed}
    assert set(changed) == {medical["under"]} and "screened" in changed[medical["under"]]["what"]
    assert "部门筛查命中MED_EXITED_YTD_OOP" in changed[medical["under"]]["after"]
    assert c.screening["thresholds"]["s|"]["screening.medical.exited_annual_oop"] == 4000
    assert [b["kind"] for b in c.screening["batches"]] == ["medical"]
    # nothing written: no run, hit, review; the batch is still unscreened; the what-if is audited as a read
    assert not ScreeningRun.objects.exists() and not ScreeningHit.objects.exists()
    assert not LinkReview.objects.exists() and DeptBatch.objects.get().screened_run_id is None
    ev = AuditEvent.objects.filter(event_type="whatif.view").latest("seq")
    assert ev.data["read"] is True and ev.data["screening_batches"] == [DeptBatch.objects.get().pk]

    # the direct recomputation: real screening runs with the thresholds in force, then with a real version
    assert _run_hits(admin) == _screened(c, "base")
    parameter_change(actor=admin, key="screening.medical.exited_annual_oop", value=4000, region_code="410506",
                     year=2025, basis="测试：筛查阈值下调", doc_no="测试〔2025〕2号")  # fmt: skip
    assert _run_hits(admin) == _screened(c, "scen")


def test_screening_in_the_screen_and_the_command(client, personas, medical):
    client.force_login(personas["county_admin"])
    q = f"?screening.medical.exited_annual_oop=4000&on={ON.isoformat()}"
    page = client.get("/stats/whatif/" + q).content.decode()
    assert 'id="whatif-screening"' in page and "医保结算 2025-06 第1版" in page and "5000 → 4000" in page
    assert "部门筛查预警" in page
    lst = client.get("/stats/whatif/list/" + q + "&measure=screened").content.decode()
    hh = {k: str(v) for k, v in medical.items()}
    assert "MED_EXITED_YTD_OOP" in lst and f"/households/{hh['under']}/" in lst
    assert f"/households/{hh['other']}/" not in lst
    # a line change alone runs no screening unless asked
    assert (
        'id="whatif-screening"'
        not in client.get(f"/stats/whatif/?income.monitoring_line=%2B10%25&on={ON}").content.decode()
    )
    assert (
        'id="whatif-screening"'
        in client.get(f"/stats/whatif/?income.monitoring_line=%2B10%25&screening=1&on={ON}").content.decode()
    )
    out = io.StringIO()
    call_command("whatif", "--set", "medical_oop=4000", "--as", "county_admin", "--on", ON.isoformat(),
                 "--list", "screened", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "部门筛查：2025年1月至2025-06已上传的1个批次" in text and "5000→4000" in text
    assert text.count("  1人") == 2  # the two households listed
