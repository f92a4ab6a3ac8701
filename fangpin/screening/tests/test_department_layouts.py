"""Done means (issue 15): department files in the layouts departments really export — written by hand in
``fixtures/depts`` — are accepted or ask one mapping question; a saved mapping is reused; a year's file
uploaded once gives the year's leads once and a second run none; mistyped IDs link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.monitoring.models import Lead
from fangpin.registry.choices import HouseholdType, LabourSkill, Relation
from fangpin.registry.models import Person
from fangpin.screening.models import BatchIssue, DeptBatch, DeptMapping, ScreeningHit
from fangpin.screening.protect import read_revealed
from fangpin.screening.services.runs import screening_run_start
from fangpin.screening.services.uploads import (
    batch_abspath,
    dept_batch_upload,
    dept_mapping_preview,
    dept_mapping_save,
)
from fangpin.screening.sources import SOURCES
from fangpin.screening.sources.parse import E_MAPPING_NEEDED, E_QUOTE
from fangpin.screening.testing.depts import registry_slice
from fangpin.testing import factories as f

FIX = Path(__file__).parent / "fixtures" / "depts"
ON = dt.date(2025, 12, 20)  # the business date of uploads and runs
MONTH = "2025-12"


def _registry() -> dict[str, Person]:
    """The households the hand-written files talk about, among 60 others (for Splink's u estimates)."""
    registry_slice(households=20)
    h1 = f.household(f.VILLAGE_A1, household_type=HouseholdType.EXITED)  # 王家岗村民委员会
    h2 = f.household(f.VILLAGE_A2, household_type=HouseholdType.EXITED)  # 北齐村民委员会
    h3 = f.household(f.VILLAGE_B1, household_type=HouseholdType.ORDINARY)  # 龙泉村民委员会
    h4 = f.household(f.VILLAGE_A2, household_type=HouseholdType.ORDINARY)
    rows = [
        (h1, "王建国", "M", dt.date(1968, 3, 12), "410506196803120153", Relation.HEAD, LabourSkill.ORDINARY, 10),
        (h1, "李秀英", "F", dt.date(1970, 7, 2), "410506197007020164", Relation.SPOUSE, LabourSkill.NONE, 0),
        (h1, "王小龙", "M", dt.date(2012, 9, 15), "410506201209150193", Relation.SON, LabourSkill.NONE, 0),
        (h2, "赵德福", "M", dt.date(1955, 1, 20), "410506195501200217", Relation.HEAD, LabourSkill.WEAK, 6),
        (h2, "陈桂兰", "F", dt.date(1958, 11, 30), "410506195811300221", Relation.SPOUSE, LabourSkill.NONE, 0),
        (h3, "周海燕", "F", dt.date(1985, 4, 8), "410506198504080242", Relation.HEAD, LabourSkill.ORDINARY, 12),
        (h3, "周子涵", "M", dt.date(2010, 2, 14), "410506201002140270", Relation.SON, LabourSkill.NONE, 0),
        (h4, "孙永庆", "M", dt.date(1979, 12, 1), "41050619791201029X", Relation.HEAD, LabourSkill.SKILLED, 12),
        (h4, "刘淑珍", "F", dt.date(1949, 6, 6), "41050619490606030X", Relation.MOTHER, LabourSkill.NONE, 0),
    ]  # fmt: skip
    return {
        name: f.person(
            hh, name=name, gender=g, birth=b, id_number=idn, relation=rel, labour_skill=skill, work_months=wm
        )  # fmt: skip
        for hh, name, g, b, idn, rel, skill, wm in rows
    }


# file → (kind, rows stored, {canonical column: values in file order})
LAYOUTS = {
    "medical_jiesuan_mingxi.csv": ("medical", 7, {"visit_type": ["住院", "门诊", "住院", "住院", "住院", "门特", "住院"],
                                                  "out_of_pocket": [3200.5, 43.0, 2100.0, 5600.0, 12000.0, 84.0, 30000.0]}),
    "medical_zhuyuan_gbk.csv": ("medical", 2, {"settle_date": [dt.date(2025, 2, 10), dt.date(2025, 8, 2)],
                                               "visit_type": ["住院", "住院"], "village": ["王家岗村", "北齐村"]}),
    "police_siwang.csv": ("police", 1, {"change_type": ["死亡"], "change_date": [dt.date(2025, 10, 8)]}),
    "police_huji_biandong.csv": ("police", 3, {"change_type": ["死亡", "出生", "迁出"]}),
    "disability_chizheng.csv": ("disability", 1, {"id_number": ["410506201209150193"], "grade": [2], "category": ["4"]}),
    "disability_banzheng.csv": ("disability", 1, {"grade": [3], "category": ["1"], "issue_date": [dt.date(2025, 6, 3)]}),
    "education_kongchuo.csv": ("education", 1, {"stage": ["初中"], "status": ["辍学"], "school_grade": ["八年级"]}),
    "education_xueji_biandong.csv": ("education", 1, {"stage": ["小学"], "status": ["在读"]}),
    "housing_jianding.csv": ("housing", 1, {"id_number": ["41050619791201029X"], "grade": ["D"]}),
    "housing_weigai.csv": ("housing", 1, {"grade": ["C"], "appraise_date": [dt.date(2025, 8, 11)]}),
    "civil_tingbao.csv": ("civil", 1, {"scheme": ["低保"], "status": ["停保"], "village": ["北齐村"]}),
    "civil_tekun_huamingce.csv": ("civil", 1, {"scheme": ["特困"], "status": ["在保"], "amount": [720.0]}),
    "hrss_shiye.csv": ("hrss", 1, {"reg_type": ["失业登记"], "reg_date": [dt.date(2025, 11, 3)]}),
    "hrss_jiuye_shiye.txt": ("hrss", 1, {"reg_type": ["就业登记"], "employer": ["安阳县建筑公司"]}),
}  # fmt: skip


def _officer(dept: str):
    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role

    user, _ = User.objects.get_or_create(
        username=f"dept_{dept}",
        defaults={"role": Role.DEPT_OFFICER, "region_id": f.COUNTY, "department": dept},
    )
    return user


def _upload(name: str, *, period: str = MONTH, kind: str | None = None) -> DeptBatch:
    kind = kind or LAYOUTS[name][0]
    return dept_batch_upload(
        actor=_officer(SOURCES[kind].departments[0]), kind=kind, path=FIX / name, period=period, on=ON
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_each_real_layout_is_accepted(name):
    _registry()
    kind, n, expect = LAYOUTS[name]
    b = _upload(name)
    assert (b.rows_ok, b.rows_rejected) == (n, 0)
    df = read_revealed(batch_abspath(b)).sort("row_no")
    for col, values in expect.items():
        assert df[col].to_list() == values, col
    # nothing dropped in silence: unused columns and 合计 rows are listed with the batch
    raw = (FIX / name).read_bytes()
    text = raw.decode("gb18030") if name.endswith("_gbk.csv") else raw.decode("utf-8-sig")
    unused = BatchIssue.objects.filter(batch=b, code="column_unused").values_list("column", flat=True)
    assert all(u in text and u not in b.mapping.values() for u in unused)
    assert b.department == SOURCES[kind].departments[0] and not b.on_behalf


@pytest.mark.django_db
def test_every_source_has_at_least_two_hand_written_layouts():
    kinds = [k for k, _n, _e in LAYOUTS.values()]
    for k in ("medical", "police", "disability", "education", "housing", "civil", "hrss"):
        assert kinds.count(k) >= 2, k


@pytest.mark.django_db
def test_unrecognised_headers_ask_one_question_and_the_saved_mapping_is_reused():
    _registry()
    officer = _officer("人社")
    with pytest.raises(DomainError) as e:
        dept_batch_upload(
            actor=officer, kind="hrss", path=FIX / "hrss_unrecognised_11.csv", period="2025-11", on=ON
        )
    assert e.value.code == E_MAPPING_NEEDED and "表头" in e.value.message
    assert not DeptBatch.objects.exists()  # nothing guessed, nothing stored
    pv = dept_mapping_preview(actor=officer, kind="hrss", path=FIX / "hrss_unrecognised_11.csv", on=ON)
    assert pv["needs_answer"] and pv["raw"][0][0] == "人员名称"
    # a header that is not in the file is refused
    with pytest.raises(DomainError):
        dept_mapping_save(
            actor=officer, kind="hrss", columns={"姓名": "姓名全称"}, path=FIX / "hrss_unrecognised_11.csv"
        )
    m = dept_mapping_save(
        actor=officer, kind="hrss", path=FIX / "hrss_unrecognised_11.csv",
        columns={"姓名": "人员名称", "证件号码": "证照号码", "登记类型": "人员状态", "登记日期": "业务日期"},
    )  # fmt: skip
    assert (m.department, m.version) == ("人社", 1)
    assert AuditEvent.objects.filter(event_type="screening.mapping_save", object_id=str(m.pk)).exists()
    pv = dept_mapping_preview(actor=officer, kind="hrss", path=FIX / "hrss_unrecognised_11.csv", on=ON)
    assert not pv["needs_answer"] and pv["parsed"][0]["reg_type"] == "失业登记"
    assert pv["parsed"][0]["id_number"] == "410506198504080242"
    b = dept_batch_upload(
        actor=officer, kind="hrss", path=FIX / "hrss_unrecognised_11.csv", period="2025-11", on=ON
    )
    assert b.rows_ok == 1 and b.mapping["id_number"] == "证照号码"
    # next month's file in the same layout: no question
    b2 = dept_batch_upload(
        actor=officer, kind="hrss", path=FIX / "hrss_unrecognised_12.csv", period="2025-12", on=ON
    )
    assert b2.rows_ok == 1 and DeptMapping.objects.count() == 1
    # the mapping is the department's: another department's file of another kind is not affected
    assert dept_mapping_preview(actor=_officer("医保"), kind="medical", path=FIX / "medical_jiesuan_mingxi.csv",
                                on=ON)["needs_answer"] is False  # fmt: skip


@pytest.mark.django_db
def test_mapping_cli_previews_and_saves(capsys):
    _registry()
    _officer("人社")
    path = str(FIX / "hrss_unrecognised_11.csv")
    call_command("dept_mapping", "hrss", path, "--as", "dept_人社")
    out = capsys.readouterr().out
    assert "需要确认" in out and "人员名称" in out
    call_command("dept_mapping", "hrss", path, "--as", "dept_人社", "--set", "姓名=人员名称", "--set",
                 "证件号码=证照号码", "--set", "登记类型=人员状态", "--set", "登记日期=业务日期")  # fmt: skip
    out = capsys.readouterr().out
    assert "已保存" in out and "登记类型=失业登记" in out and "需要确认" not in out
    assert "reg_type" not in out and "id_status" not in out  # the preview in Chinese, as the browser shows it


@pytest.mark.django_db
def test_hostile_values_are_refused_row_by_row_and_a_lost_row_is_an_error():
    _registry()
    b = _upload("medical_bad_values.csv", kind="medical")
    errs = {i.row: i.message for i in BatchIssue.objects.filter(batch=b, severity=BatchIssue.ERROR)}
    assert b.rows_ok == 1 and set(errs) == {2, 3, 4, 5, 6}
    assert "超出合理范围" in errs[2] and "应为金额" in errs[3] and "应为金额" in errs[4]
    assert "晚于今天" in errs[5] and "不能为负数" in errs[6]
    assert read_revealed(batch_abspath(b))["out_of_pocket"].to_list() == [200.0]
    d = _upload("disability_bad_grade.csv", kind="disability")
    errs = {i.row: i.message for i in BatchIssue.objects.filter(batch=d, severity=BatchIssue.ERROR)}
    assert d.rows_ok == 1 and set(errs) == {2, 3} and all("整数" in m for m in errs.values())
    with pytest.raises(DomainError) as e:
        _upload("water_unbalanced_quote.csv", kind="water")
    assert (
        e.value.code == E_QUOTE
        and "第2行" in e.value.message
        and "water_unbalanced_quote.csv" in e.value.message
    )


@pytest.mark.django_db
def test_county_admin_uploads_on_a_departments_behalf(personas):
    _registry()
    admin = personas["county_admin"]
    b = dept_batch_upload(actor=admin, kind="police", path=FIX / "police_siwang.csv", period=MONTH,
                          on_behalf_of="公安", on=ON)  # fmt: skip
    assert b.on_behalf and b.department == "公安" and b.uploaded_by == admin
    ev = AuditEvent.objects.get(event_type="screening.batch_upload", object_id=str(b.pk))
    assert ev.data["on_behalf"] is True and ev.data["department"] == "公安"
    with pytest.raises(DomainError):  # 公安 does not send 残联 certificates
        dept_batch_upload(actor=admin, kind="disability", path=FIX / "disability_chizheng.csv", period=MONTH,
                          on_behalf_of="公安", on=ON)  # fmt: skip
    with pytest.raises(PermissionDenied):  # only a county admin uploads for another department
        dept_batch_upload(actor=_officer("医保"), kind="police", path=FIX / "police_siwang.csv", period=MONTH,
                          on_behalf_of="公安", on=ON)  # fmt: skip
    with pytest.raises(PermissionDenied):  # and without saying for whom, an admin uploads nothing
        dept_batch_upload(
            actor=admin, kind="police", path=FIX / "police_huji_biandong.csv", period=MONTH, on=ON
        )


def test_setup_creates_one_officer_per_configured_department():
    from fangpin.accounts.roles import Role
    from fangpin.demo.services.setup import DEMO_DEPARTMENTS, DEMO_USERS

    officers = {u for u, role, _lvl, _d in DEMO_USERS if role == Role.DEPT_OFFICER}
    assert officers == set(DEMO_DEPARTMENTS)
    wanted = {d for s in SOURCES.values() for d in s.departments}
    assert sorted(DEMO_DEPARTMENTS.values()) == sorted(wanted)  # one each, 公安 and 住建 included


YEAR_FILES = ("medical_jiesuan_mingxi.csv", "police_siwang.csv", "police_huji_biandong.csv",
              "disability_chizheng.csv", "education_kongchuo.csv", "housing_jianding.csv", "housing_weigai.csv",
              "civil_tingbao.csv", "hrss_shiye.csv")  # fmt: skip


def _found(run) -> set[tuple[str, str, str]]:
    return set(ScreeningHit.objects.filter(run=run).values_list("rule_code", "person__name", "match_method"))


@pytest.mark.django_db
def test_a_years_files_give_the_years_leads_once(personas, monitored):
    people = _registry()
    for (
        name
    ) in YEAR_FILES:  # a second file of a department goes under another month (same month = new version)
        _upload(
            name, period="2025-11" if name in ("police_huji_biandong.csv", "housing_weigai.csv") else MONTH
        )
    admin = personas["county_admin"]
    run = screening_run_start(actor=admin, month=MONTH, on=ON)
    assert run.status == "done", run.error
    assert _found(run) == {
        ("MED_EXITED_YTD_OOP", "王建国", "id"),  # 3200.50 in February + 2100 in September
        ("MED_EXITED_YTD_OOP", "陈桂兰", "linkage"),  # one digit of her ID mistyped in the 结算明细
        ("MED_STAY_OTHER", "周海燕", "id"),  # a stay in March, in a file filed under December
        ("POL_DEATH_ONLY_LABOURER", "王建国", "id"),  # 死亡人员名单 without 变动类型
        ("POL_DEATH_ONLY_LABOURER", "赵德福", "id"),  # 弱劳动力 counts as labour by default
        ("DIS_NEW_SEVERE", "王小龙", "id"),
        ("EDU_DROPOUT", "周子涵", "id"),  # 控辍保学 list: 八年级 → 初中, 辍学日期
        ("HOUSE_UNSAFE", "孙永庆", "id"),  # 户主身份证号 kept
        ("HOUSE_UNSAFE", "周海燕", "id"),  # 局部危房 → C
        ("DIBAO_CANCELLED", "陈桂兰", "id"),
        ("HRSS_EARNER_UNEMPLOYED", "周海燕", "id"),
    }
    ytd = ScreeningHit.objects.get(run=run, rule_code="MED_EXITED_YTD_OOP", person=people["王建国"])
    assert ytd.value == pytest.approx(5300.5) and ytd.evidence["records"] == 2
    linked = ScreeningHit.objects.get(run=run, rule_code="MED_EXITED_YTD_OOP", person=people["陈桂兰"])
    assert linked.match_probability >= 0.9
    leads = Lead.objects.count()
    assert leads > 0 and sum(run.counts["leads_per_rule"].values()) >= 9
    assert all(b.screened_run_id == run.pk for b in DeptBatch.objects.all())

    again = screening_run_start(actor=admin, month=MONTH, on=ON)
    assert again.status == "done" and _found(again) == set()
    assert again.counts["batches_new"] == [] and Lead.objects.count() == leads
    # next month's file of one department is screened on its own; the year's records are not repeated
    b = _upload("hrss_jiuye_shiye.txt", period="2026-01")
    third = screening_run_start(actor=admin, month="2026-01", on=dt.date(2026, 1, 20))
    assert third.counts["batches_new"] == [b.pk] and _found(third) == set()


@pytest.mark.django_db
def test_only_labourer_follows_the_countys_definition(personas, monitored):
    from fangpin.policy.params import parameter_set

    _registry()
    admin = personas["county_admin"]
    parameter_set(actor=admin, key="screening.labour.skills_counted", value=["技能劳动力", "普通劳动力"],
                  year=2025, region_code="410506", basis="本县口径：弱劳动力不计")  # fmt: skip
    _upload("police_huji_biandong.csv")
    run = screening_run_start(actor=admin, month=MONTH, on=ON, departments=["police"])
    # 赵德福 is 弱劳动力: with this county's definition the household had no labourer, so no
    # "only labourer died" lead (and the rule reads the parameter, not a constant)
    assert _found(run) == set()


@pytest.mark.django_db
def test_mistyped_ids_link_through_the_product_path(personas, monitored):
    people = _registry()
    _upload("civil_mistyped_ids.csv", kind="civil")
    run = screening_run_start(actor=personas["county_admin"], month=MONTH, on=ON)
    hits = {h.person.name: h for h in ScreeningHit.objects.filter(run=run, rule_code="DIBAO_CANCELLED")}
    typed = {"李秀英", "赵德福", "刘淑珍", "周子涵"}  # digit wrong, digits swapped, old 15-digit typo, none
    recall = len(typed & set(hits)) / len(typed)
    assert recall == 1.0, set(hits)
    assert all(hits[n].match_method == "linkage" and hits[n].person_id == people[n].pk for n in typed)
    assert hits["孙永庆"].match_method == "id"  # full-width digits are just a valid ID
    # 龙泉村 (file) and 龙泉村民委员会 (registry) agree once normalised like the registry importer does
    assert "村" in hits["周子涵"].evidence["match"]["agreeing"]
    assert run.counts["departments"]["civil"]["matched_linkage"] == 4


@pytest.mark.django_db
def test_a_city_run_applies_each_countys_own_thresholds(personas, monitored, tmp_path):
    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role
    from fangpin.policy.params import parameter_set
    from fangpin.regions.models import Level, Region

    _registry()
    # a village of 安阳市北关区 (410505) beside 龙安区 (410506); 北关区 counts 3 days without water as a risk
    town = Region.objects.create(code="410505100000", name="测试镇", level=Level.TOWNSHIP, parent_id="410505000000",
                                 prefix="410505100")  # fmt: skip
    Region.objects.create(code="410505100201", name="测试村村民委员会", level=Level.VILLAGE, parent=town,
                          prefix="410505100201")  # fmt: skip
    other = f.person(f.household("410505100201"), name="钱德胜", birth=dt.date(1966, 5, 5),
                     id_number="410505196605050011")  # fmt: skip
    admin = personas["county_admin"]
    parameter_set(actor=admin, key="screening.water.interruption_days", value=3, year=2025, region_code="410505",
                  basis="北关区：断水超过3天")  # fmt: skip
    city = User.objects.create(username="city_admin", role=Role.COUNTY_ADMIN, region_id="410500000000")
    water = tmp_path / "water.csv"
    water.write_text(
        "姓名,证件号码,断水开始日期,断水天数\n王建国,410506196803120153,2025-12-02,5\n"
        f"钱德胜,{other.id_number},2025-12-02,5\n",
        encoding="utf-8",
    )
    dept_batch_upload(actor=_officer("水利"), kind="water", path=water, period=MONTH, on=ON)
    run = screening_run_start(actor=city, month=MONTH, on=ON, departments=["water"])
    assert run.status == "done", run.error
    hits = list(ScreeningHit.objects.filter(run=run))
    # 5 days: over 北关区's 3, not over 龙安区's 7
    assert [(h.person.name, h.threshold) for h in hits] == [("钱德胜", 3.0)]
    assert hits[0].evidence["param"]["value"] == 3


@pytest.mark.django_db
def test_a_corrected_file_screens_only_what_it_changes(personas, monitored, tmp_path):
    """A new version of a screened file (same department, same month) repeats most records: those are not
    screened again; a record it adds is."""
    _registry()
    admin = personas["county_admin"]
    head = "姓名,证件号码,断水开始日期,断水天数\n"
    v1 = tmp_path / "v1.csv"
    v1.write_text(head + "王建国,410506196803120153,2025-12-02,9\n", encoding="utf-8")
    dept_batch_upload(actor=_officer("水利"), kind="water", path=v1, period=MONTH, on=ON)
    first = screening_run_start(actor=admin, month=MONTH, on=ON, departments=["water"])
    assert _found(first) == {("WATER_INTERRUPTED", "王建国", "id")}, (first.counts, first.error)
    v2 = tmp_path / "v2.csv"  # the corrected file: the same record, and one the department had left out
    v2.write_text(head + "周海燕,410506198504080242,2025-12-05,12\n王建国,410506196803120153,2025-12-02,9\n",
                  encoding="utf-8")  # fmt: skip
    b2 = dept_batch_upload(actor=_officer("水利"), kind="water", path=v2, period=MONTH, on=ON)
    assert b2.version == 2
    second = screening_run_start(actor=admin, month=MONTH, on=ON, departments=["water"])
    assert second.counts["batches_new"] == [b2.pk]
    assert _found(second) == {("WATER_INTERRUPTED", "周海燕", "id")}
