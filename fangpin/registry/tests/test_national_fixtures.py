"""The hand-written national 监测对象信息 fixtures (fixtures/build_fixtures.py, not fangpin's generator or
exporter): the national export imports with every column kept; the hand-resaved xlsx and GBK CSV variants
import to the same registry; re-importing any of them changes nothing; import → export round-trips cell

for cell; a bad member row blames only itself; a person listed under another household is never moved
silently."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from fangpin.accounts.actors import system_actor
from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import Lead, Measure, MeasureStatus, MonitoringObject
from fangpin.registry.checks import codes as CC
from fangpin.registry.checks.report import registry_findings
from fangpin.registry.io import validate as V
from fangpin.registry.io.export import registry_export
from fangpin.registry.models import (
    FactProvenance,
    Household,
    ImportStatus,
    IncomeRecord,
    MemberChange,
    Person,
)
from fangpin.registry.services.assessment import household_guarantees_assess
from fangpin.registry.services.imports import registry_import

from .fixtures import build_fixtures as B
from .national_file import xlsx_bytes

pytestmark = pytest.mark.django_db

EXPORT_ON = dt.date(2026, 12, 1)  # the business date of the exports
ON = EXPORT_ON  # and of the imports

FIXTURES = Path(__file__).parent / "fixtures"
NATIONAL = "national_monitoring_objects.xlsx"
RESAVED = "resaved_by_hand.xlsx"
RESAVED_CSV = "resaved_by_hand_gbk.csv"
H1, H2, H3 = "41050620520100012", "41050620520200031", "41050610020100007"


def _import(actor, name: str, data: bytes | None = None, **kw):
    data = (FIXTURES / name).read_bytes() if data is None else data
    batch = registry_import(on=ON, actor=actor, file_name=name, data=data, **kw)
    return batch


def _ok(batch):
    assert batch.status == ImportStatus.IMPORTED, list(batch.rejects.values_list("row", "column", "reason"))
    return batch


def _counts() -> dict[str, int]:
    return {
        "household_history": Household.history.count(),
        "person_history": Person.history.count(),
        "income_history": IncomeRecord.history.count(),
        "provenance": FactProvenance.objects.count(),
        "member_changes": MemberChange.objects.count(),
        "objects": MonitoringObject.objects.count(),
        "leads": Lead.objects.count(),
        "measures": Measure.objects.count(),
    }


def test_the_fixture_files_are_what_the_builder_spells():
    """The committed files are the builder's literal cells (no drift between script and files)."""
    ws = openpyxl.load_workbook(FIXTURES / NATIONAL, read_only=True).active
    rows = [[("" if c is None else c) for c in r] for r in ws.iter_rows(values_only=True)]
    assert rows[2] == B.NATIONAL_HEADERS
    assert rows[3:] == B.national_rows()
    ws = openpyxl.load_workbook(FIXTURES / RESAVED, read_only=True).active
    rows = [[("" if c is None else c) for c in r] for r in ws.iter_rows(values_only=True)]
    assert rows[2] == [h for h, _ in B.RESAVED_COLUMNS] and rows[3:] == B.resaved_rows()
    text = (FIXTURES / RESAVED_CSV).read_bytes().decode("gbk")
    assert "非在校生" in text and "初一" in text and "身份证号码" in text


def test_national_export_imports_with_every_column_kept(personas):
    admin = personas["county_admin"]
    batch = _ok(_import(admin, NATIONAL))
    assert (batch.households, batch.persons) == (3, 11)
    assert batch.details["unknown_columns"] == []
    by_id = {p.name: p for p in Person.objects.all()}
    # 在校生状况 in the national spelling: 小学 (no grade), 七年级, 普通高中二年级, 学龄前儿童, blank for non-students
    assert by_id["王小明"].school_status == "小学" and by_id["王小红"].school_status == "七年级"
    assert by_id["赵雪"].school_status == "普通高中二年级" and by_id["赵小宝"].school_status == "学龄前儿童"
    assert by_id["王建国"].school_status == "" and by_id["王老根"].disability_cert_no.endswith("42")
    # 公益性岗位 keeps the post; the flag follows it
    assert by_id["刘长山"].public_welfare_job_name == "护林员" and by_id["刘长山"].public_welfare_job
    assert by_id["刘长山"].public_welfare_job_months == 12 and not by_id["王建国"].public_welfare_job
    # 帮扶措施 and the other person-level columns, with their provenance on the row
    assert by_id["王老根"].national_facts["综合保障"] == "低保,残疾人补贴"
    assert by_id["王建国"].national_facts["金融帮扶"] == "小额信贷"
    assert by_id["王建国"].national_facts["信息采集人联系电话"] == "13937200001"
    assert by_id["赵志刚"].national_facts["风险是否已消除0"] == "是"
    assert by_id["王建国"].source_ref == f"导入批次#{batch.pk} 第4行"
    # 是否解决安全饮用水 is a stored fact, and the water judgement uses it
    h1, h3 = Household.objects.get(household_no=H1), Household.objects.get(household_no=H3)
    assert h1.safe_drinking_water is True and h3.safe_drinking_water is False
    g3, _ = household_guarantees_assess(h3, on=dt.date(2024, 1, 5))
    g1, _ = household_guarantees_assess(h1, on=dt.date(2024, 1, 5))
    assert g3.failed("water") and not g1.failed("water")
    # the stated 人均纯收入 is kept next to the components
    inc = IncomeRecord.objects.get(household=h1)
    assert inc.stated_per_capita == Decimal("5800.00") and inc.insurance_payout == Decimal("1000.00")
    # 风险消除后… and 因自然灾害子项 stay with the household
    h2 = Household.objects.get(household_no=H2)
    assert h2.national_facts["风险消除后家庭人均纯收入"] == "9900.00"
    assert (
        h2.national_facts["风险消除后是否住房损毁"] == "否"
        and h2.national_facts["因自然灾害子项"] == "洪涝灾害"
    )
    # measures of monitoring objects became their assistance measures (H3 is no monitoring object)
    o1 = MonitoringObject.objects.get(household=h1)
    o2 = MonitoringObject.objects.get(household=h2)
    m1 = Measure.objects.filter(monitoring_object=o1)
    assert {m.name for m in m1} >= {"产业", "小额信贷", "医疗救助/医保补贴", "低保", "残疾人补贴"}
    assert all(m.status == MeasureStatus.IN_PROGRESS and m.start_on == dt.date(2023, 5, 1) for m in m1)
    m2 = Measure.objects.filter(monitoring_object=o2)
    assert {m.name for m in m2} >= {"就业", "饮水保障", "消费帮扶", "危房改造"}
    assert all(m.status == MeasureStatus.DONE for m in m2)
    assert m1.get(person__name="王老根", name="残疾人补贴").outcome == "国家系统：综合保障=残疾人补贴"
    assert not Measure.objects.filter(household=h3).exists()
    assert batch.details["measures"]["created"] == m1.count() + m2.count()
    # the report names what it did not store as such, and why
    not_stored = {d["column"]: d["reason"] for d in batch.details["columns_not_stored"]}
    assert "按“其他转移性收入”保存" in not_stored["转移性收入"]
    assert set(not_stored) <= {"县", "乡", "村", "转移性收入", "义务教育阶段未上学原因"}


@pytest.mark.parametrize("variant", [RESAVED, RESAVED_CSV])
def test_variants_import_to_the_same_registry_and_reimports_change_nothing(personas, variant):
    admin = personas["county_admin"]
    first = _ok(_import(admin, variant))
    assert (first.households, first.persons) == (3, 11)
    before = _counts()
    # the national file on top of what the variant wrote: every column of it compared, nothing differs
    again = _ok(_import(admin, NATIONAL))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 11)
    assert again.details["households_counts"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again.details["income_counts"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert _counts() == before
    # and the variant once more
    third = _ok(_import(admin, variant))
    assert (third.created, third.updated, third.unchanged) == (0, 0, 11)
    assert _counts() == before
    # what the variant spelled differently is reported per column and spelling (cells counted)
    m = first.details["value_mappings"]
    assert m["在校生状况"] == {
        "初一 → 七年级": 1,
        "学龄前 → 学龄前儿童": 1,
        "非在校生 → （空）": 7,
        "高二 → 普通高中二年级": 1,
    }
    assert m["出生日期"] == {"YYYY-MM-DD → YYYYMMDD": 10, "YYYY/M/D → YYYYMMDD": 1}
    assert m["与户主关系"]["本人 → 户主"] == 2 and m["公益性岗位"]["否 → （空）"] == 10
    assert m["是否有卫生厕所"] == {"无 → 否": 2, "有 → 是": 9}
    assert m["综合保障"] == {"低保、残疾人补贴 → 低保,残疾人补贴": 1}
    not_stored = {d["column"] for d in first.details["columns_not_stored"]}
    assert "备注（乡镇自加）" in not_stored


def test_reimporting_the_national_export_changes_nothing(personas):
    admin = personas["county_admin"]
    _ok(_import(admin, NATIONAL))
    before = _counts()
    again = _ok(_import(admin, NATIONAL))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 11)
    assert again.details["measures"]["created"] == 0
    assert _counts() == before


def _sheet_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    rows = [["" if c is None else str(c) for c in r] for r in ws.iter_rows(values_only=True)]
    return rows[2], rows[3:]


def _csv_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return rows[0], rows[1:]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_import_then_national_export_round_trips_cell_for_cell(personas, tmp_path, suffix):
    admin = personas["county_admin"]
    _ok(_import(admin, NATIONAL))
    # no income year given: each household's income of the year its file gave
    res = registry_export(on=EXPORT_ON, actor=admin, out_path=tmp_path / f"out{suffix}", unmasked=True)
    src_head, src_rows = _sheet_rows((FIXTURES / NATIONAL).read_bytes())
    read = _sheet_rows if suffix == ".xlsx" else _csv_rows
    out_head, out_rows = read(res.path.read_bytes())
    assert set(src_head) <= set(out_head)  # every national column is exported
    assert len(out_rows) == len(src_rows) == 11
    key = src_head.index("证件号码")
    exported = {r[out_head.index("证件号码")]: dict(zip(out_head, r, strict=True)) for r in out_rows}
    diffs = []
    for r in src_rows:
        out = exported[r[key]]
        for h, v in zip(src_head, r, strict=True):
            if out[h] != v:
                diffs.append((r[key][-4:], h, v, out[h]))
    assert diffs == []
    # the file was not trivially blank: money, months, flags and measures came back as written
    wang = exported["410506197501200072"]
    assert (wang["工资性收入"], wang["识别监测时间"], wang["金融帮扶"]) == ("20000.00", "202305", "小额信贷")


def test_one_bad_member_row_blames_only_itself(personas):
    rows = B.national_rows()
    col = B.NATIONAL_HEADERS.index("户类型")
    rows[1][col] = "一般农户"  # H1's spouse says another 户类型 than her four relatives
    data = xlsx_bytes(B.NATIONAL_HEADERS, rows)
    batch = _import(personas["county_admin"], "bad.xlsx", data)
    assert batch.status == ImportStatus.FAILED
    bad = list(batch.rejects.filter(code=V.E_HH_CONFLICT))
    assert [(r.row, r.column, r.value) for r in bad] == [(5, "户类型", "一般农户")]
    assert "第4、6、7、8行" in bad[0].reason and "脱贫户" in bad[0].reason
    assert Person.objects.count() == 0


def _move_file(change: str) -> bytes:
    """刘长山 (registered in H3) listed as a member of H1."""
    headers = ["县", "乡", "村", "户编号", "姓名", "证件号码", "与户主关系", "户类型", "成员变更"]
    row = ["龙安区", "马家乡", "王家岗村", H1, "刘长山", "410506196601050257", "其他", "脱贫户", change]
    return xlsx_bytes(headers, [row])


def test_a_person_listed_under_another_household_is_refused_without_a_stated_move(personas):
    admin = personas["county_admin"]
    _ok(_import(admin, NATIONAL))
    before = _counts()
    batch = _import(admin, "move.xlsx", _move_file(""))
    assert batch.status == ImportStatus.FAILED
    r = batch.rejects.get()
    assert r.code == "member_move_unstated" and r.row == 4
    assert H1 in r.reason and H3 in r.reason and "410506196601050257" not in r.reason
    assert "********" in r.reason and "成员变更" in r.reason
    assert Person.objects.get(name="刘长山").household.household_no == H3
    assert _counts() == before


def test_a_stated_move_is_recorded_as_member_changes(personas):
    admin = personas["county_admin"]
    _ok(_import(admin, NATIONAL))
    batch = _ok(_import(admin, "move.xlsx", _move_file("迁移")))
    p = Person.objects.get(name="刘长山")
    assert p.household.household_no == H1 and p.is_member
    changes = {(c.household.household_no, c.kind) for c in MemberChange.objects.filter(person=p)}
    assert changes == {(H3, "migration_out"), (H1, "migration_in")}
    assert batch.details["member_moves"] == [{"row": 4, "from": H3, "to": H1, "how": "迁移"}]
    ev = AuditEvent.objects.filter(event_type="registry.member_move").latest("seq")
    assert ev.data["from"] == H3 and ev.data["to"] == H1
    assert p.history.latest().history_change_reason == f"迁移：户{H3}→户{H1}"
    # the same file again: the person is already there, nothing moves twice
    before = _counts()
    _ok(_import(admin, "move.xlsx", _move_file("迁移")))
    assert _counts() == before


def test_stated_per_capita_that_disagrees_with_components_is_flagged(personas):
    rows = B.national_rows()
    col = B.NATIONAL_HEADERS.index("人均纯收入（元）")
    for r in rows[:5]:  # H1's five rows
        r[col] = "6200.00"
    _ok(_import(personas["county_admin"], "stated.xlsx", xlsx_bytes(B.NATIONAL_HEADERS, rows)))
    found = [
        f
        for f in registry_findings(
            actor=system_actor("test"), region_code="410506", on=dt.date(2024, 6, 1), codes=[CC.INCOME_STATED]
        )
        if f.code == CC.INCOME_STATED
    ]
    assert [Household.objects.get(pk=f.household_id).household_no for f in found] == [H1]
    assert "6200.00" in found[0].message and "5800.00" in found[0].message


def test_a_stated_split_into_a_new_household(personas):
    admin = personas["county_admin"]
    _ok(_import(admin, NATIONAL))
    headers = ["县", "乡", "村", "户编号", "姓名", "证件号码", "与户主关系", "户类型", "成员变更"]
    row = [
        "龙安区",
        "马家乡",
        "王家岗村",
        "41050620520100099",
        "王老根",
        "41050619480811015842",
        "户主",
        "脱贫户",
        "分户",
    ]
    batch = _ok(_import(admin, "split.xlsx", xlsx_bytes(headers, [row])))
    p = Person.objects.get(name="王老根")
    assert p.household.household_no == "41050620520100099" and p.relation == "户主"
    kinds = sorted(MemberChange.objects.filter(person=p).values_list("household__household_no", "kind"))
    assert kinds == [("41050620520100012", "other_out"), ("41050620520100099", "other_in")]
    assert batch.details["households_counts"]["created"] == 1
    assert Household.objects.get(household_no=H1).persons.filter(is_member=True).count() == 4


def test_the_command_prints_the_spelling_report_and_what_it_did_not_store(personas, capsys):
    from django.core.management import call_command

    call_command("import_registry", str(FIXTURES / RESAVED), "--as", "county_admin", "--now")
    out = capsys.readouterr().out
    assert "在校生状况：初一 → 七年级（1格）；学龄前 → 学龄前儿童（1格）；非在校生 → （空）（7格）" in out
    assert "未作为字段保存的列：备注（乡镇自加）（按已保存的列对应设为“不导入”，未保存）" in out
    assert "帮扶措施：新增" in out


def test_a_changed_national_fact_gets_its_own_provenance(personas):
    admin = personas["county_admin"]
    _ok(_import(admin, NATIONAL))
    rows = B.national_rows()
    col = B.NATIONAL_HEADERS.index("产业帮扶")
    rows[0][col] = "发展种养业,光伏收益"  # 王建国's 产业帮扶 gains a measure
    batch = _ok(_import(admin, "changed.xlsx", xlsx_bytes(B.NATIONAL_HEADERS, rows)))
    assert (batch.created, batch.updated, batch.unchanged) == (0, 1, 10)
    p = Person.objects.get(name="王建国")
    assert p.national_facts["产业帮扶"] == "发展种养业,光伏收益" and p.version == 2
    fact = FactProvenance.objects.get(entity="person", entity_id=p.pk)
    assert (fact.field, fact.value) == ("national_facts.产业帮扶", "发展种养业,光伏收益")
    assert fact.source_ref == f"导入批次#{batch.pk} 第4行"
    # the new measure joins the monitoring object; the old one stays
    names = sorted(Measure.objects.filter(person=p, name="产业").values_list("outcome", flat=True))
    assert names == ["国家系统：产业帮扶=光伏收益", "国家系统：产业帮扶=发展种养业"]


@pytest.mark.parametrize(
    ("column", "item", "entry"),
    [
        ("综合保障", "低保", "低保"),
        ("综合保障", "特困供养", "特困供养"),
        ("综合保障", "残疾人两项补贴", "残疾人补贴"),
        ("综合保障", "临时救助", "临时救助"),
        ("就业帮扶", "技能培训", "技能培训"),
        ("就业帮扶", "外出务工补贴", "就业"),
        ("社会帮扶", "防贫保险", "防返贫保险"),
        ("基础设施建设", "入户道路硬化", "其他"),
        ("未知列", "某措施", "其他"),
    ],
)
def test_national_measures_map_to_the_catalogue(column, item, entry):
    from fangpin.monitoring.services.imported_measures import catalogue_entry, split_cell
    from fangpin.policy.params import param_value

    catalogue = param_value("catalogue.measures", region_code="410506205201", year=2023)
    assert catalogue_entry(column, item, catalogue) == entry
    assert split_cell("低保，残疾人补贴、 临时救助") == ["低保", "残疾人补贴", "临时救助"]
