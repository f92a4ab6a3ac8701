"""（乡村建设）户信息 and （自定义）行政村信息: import with the guarantees of the 监测对象信息 import, export back.

Fixtures are written here by hand in the layouts the national system exports (title rows, header on row 3,
是/否, numbers with two decimals) and as hand-resaved variants (shuffled columns, alias headers, 有/无 and
C for C级, plain integers, an extra 备注 column, a row per member), the latter also as GBK CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from fangpin.audit.models import AuditEvent
from fangpin.core.ids import make_id_number
from fangpin.registry.io.kinds import sniff_file_kind
from fangpin.registry.models import FactProvenance, HouseholdLivingConditions, ImportReject, VillageProfile
from fangpin.registry.services.import_mapping import import_mapping_save
from fangpin.registry.services.imports import import_report_open
from fangpin.registry.services.kind_imports import kind_export, kind_import
from fangpin.testing import factories as f

ON = dt.date(2026, 12, 1)  # the business date the imports act on

ID_WANG = make_id_number("410506", dt.date(1962, 3, 14), 11, "M")
ID_WANG_WIFE = make_id_number("410506", dt.date(1965, 8, 2), 12, "F")
ID_LI = make_id_number("410506", dt.date(1958, 11, 30), 13, "F")
ID_ZHAO = make_id_number("410506", dt.date(1979, 1, 9), 14, "M")

LIVING_HEADERS = [
    "序号", "县(市、区、旗)", "乡(镇)", "行政村", "自然村", "户编号", "户主姓名", "证件号码", "户类型",
    "入户道路是否硬化", "是否通自来水", "间隔是否低于24小时", "是否饮水安全", "是否使用清洁能源", "使用清洁能源的类型",
    "其他备注", "是否危房", "是否有淋浴设施", "是否有卫生户厕", "卫生厕所类型", "卫生厕所是否能正常使用", "卫生户厕是否入室",
    "卫生户厕是否入院", "是否进行过庭院美化",
    "是否通生活用电", "是否通生产用电", "入户路类型", "与村主干路距离（公里）", "住房面积（平方米）", "危房级别",
    "饮水是否困难", "主要燃料类型", "耕地面积（亩）", "有效灌溉面积（亩）", "林地面积（亩）", "退耕还林面积（亩）",
    "林果面积（亩）", "牧草地面积（亩）", "水面面积（亩）",
]  # fmt: skip
LIVING_ROWS = [
    ["1", "龙安区", "马家乡", "王家岗村民委员会", "王家岗", "4105062052010001", "王建国", ID_WANG, "脱贫户",
     "是", "是", "是", "是", "是", "电,液化气", "", "否", "是", "是", "水冲式厕所", "是", "否", "是", "是",
     "是", "是", "水泥路", "0.50", "120.00", "", "否", "电", "4.50", "3.00", "0.00", "0.00", "0.50", "0.00", "0.00"],
    ["2", "龙安区", "马家乡", "王家岗村民委员会", "后岗", "4105062052010002", "李秀英", ID_LI, "脱贫户",
     "否", "是", "否", "是", "否", "", "", "是", "否", "否", "", "", "否", "否", "否",
     "是", "否", "砂石路", "1.20", "85.50", "C级", "否", "柴草", "2.00", "0.00", "1.00", "0.50", "0.00", "0.00", "0.00"],
    ["3", "龙安区", "马家乡", "北齐村民委员会", "北齐", "4105062052020001", "赵铁柱", ID_ZHAO, "一般农户",
     "是", "是", "是", "否", "是", "太阳能", "空气能热水器", "否", "是", "是", "三格化粪池式", "是", "是", "否", "否",
     "是", "是", "沥青路", "0.00", "150.00", "", "是", "液化气", "6.00", "6.00", "0.00", "0.00", "0.00", "0.00", "0.20"],
]  # fmt: skip

# Hand-resaved: columns shuffled, alias headers, 有/无/通/能 spellings, C for C级, plain numbers, 备注, a row per member
MESSY_LIVING_HEADERS = [
    "户编号", "县", "乡", "村", "证件号码", "姓名", "住房面积", "是否有卫生厕所", "卫生厕所能否正常使用", "是否解决安全饮用水",
    "是否饮水困难", "是否危房户", "危房级别", "是否通电", "是否通生产用电", "入户路是否硬化", "入户路类型", "与村主干路距离",
    "主要燃料", "耕地面积", "有效灌溉面积(亩)", "林地面积", "退耕还林面积", "林果面积", "牧草地面积", "水面面积", "自然村",
    "户类型", "通自来水", "供水间隔是否低于24小时", "是否使用清洁能源", "清洁能源类型", "其他备注", "有无淋浴设施",
    "卫生户厕类型", "卫生户厕是否入室", "卫生户厕是否入院", "是否庭院美化", "备注",
]  # fmt: skip
MESSY_LIVING_ROWS = [
    ["4105062052010001", "龙安区", "马家乡", "王家岗村", ID_WANG, "王建国", "120", "有", "能", "是", "否", "否", "",
     "通", "通", "已硬化", "水泥路", "0.5", "电", "4.5", "3", "0", "0", "0.5", "0", "0", "王家岗", "脱贫户",
     "通", "是", "是", "电,液化气", "", "有", "水冲式厕所", "否", "是", "是", "户主"],
    ["4105062052010001", "龙安区", "马家乡", "王家岗村", ID_WANG_WIFE, "张桂兰", "120", "有", "能", "是", "否", "否", "",
     "通", "通", "已硬化", "水泥路", "0.5", "电", "4.5", "3", "0", "0", "0.5", "0", "0", "王家岗", "脱贫户",
     "通", "是", "是", "电,液化气", "", "有", "水冲式厕所", "否", "是", "是", "配偶"],
    ["4105062052010002", "龙安区", "马家乡", "王家岗", ID_LI, "李秀英", "85.5", "无", "", "已解决", "否", "是", "C",
     "是", "否", "未硬化", "砂石路", "1.2", "柴草", "2", "0", "1", "0.5", "0", "0", "0", "后岗", "脱贫户",
     "是", "否", "否", "", "", "无", "", "否", "否", "否", ""],
    ["4105062052020001", "龙安区", "马家乡", "北齐", ID_ZHAO, "赵铁柱", "150", "有", "能", "否", "是", "否", "",
     "是", "是", "是", "沥青路", "0", "液化气", "6", "6", "0", "0", "0", "0", "0.2", "北齐", "一般农户",
     "通", "是", "是", "太阳能", "空气能热水器", "有", "三格化粪池式", "是", "否", "否", ""],
]  # fmt: skip
COL = {h: i for i, h in enumerate(LIVING_HEADERS)}

VILLAGE_HEADERS = [
    "序号", "县", "乡", "村", "是否出列", "总户数", "总人口数", "村级集体经济收入（万元）", "村小学（个数）",
    "参加城乡居民基本养老保险人数", "是否通客运班车", "行政村卫生室个数", "行政村公共卫生厕所个数",
    "行政村执业（助理）医师（人）", "行政村生产生活垃圾集中堆放点个数（个）", "行政村文化（图书）室个数 （个）",
    "低保户数", "低保人口数", "特困供养人口数", "残疾人口数", "危房户数", "未实现饮水安全户数", "到乡镇是否通沥青（水泥）路",
]  # fmt: skip
VILLAGE_ROWS = [  # in code order, as the national system lists them
    ["1", "龙安区", "龙泉镇", "龙泉村民委员会", "是", "688", "2410", "", "1", "1690", "是", "2", "3", "3", "4", "1",
     "31", "52", "9", "61", "0", "3", "是"],
    ["2", "龙安区", "马家乡", "王家岗村民委员会", "是", "412", "1536", "12.50", "1", "1021", "是", "1", "2", "2", "3", "1",
     "23", "41", "6", "37", "0", "0", "是"],
    ["3", "龙安区", "马家乡", "北齐村民委员会", "否", "305", "1187", "3.20", "0", "802", "否", "1", "1", "1", "2", "1",
     "18", "30", "4", "25", "2", "1", "是"],
]  # fmt: skip
MESSY_VILLAGE_HEADERS = [
    "行政村", "乡(镇)", "县(市、区、旗)", "总户数", "总人口", "是否出列村", "低保户数", "低保人数", "特困人口数", "残疾人数",
    "危房户数", "饮水不安全户数", "村级集体经济收入", "村小学个数", "参加城乡居民养老保险人数", "通客运班车", "村卫生室个数",
    "公共卫生厕所个数", "执业(助理)医师", "垃圾集中堆放点个数", "文化(图书)室个数", "是否通沥青(水泥)路", "备注",
]  # fmt: skip
MESSY_VILLAGE_ROWS = [
    ["王家岗村", "马家乡", "龙安区", "412", "1536", "是", "23", "41", "6", "37", "0", "0", "12.5", "1", "1021", "通",
     "1", "2", "2", "3", "1", "是", ""],
    ["北齐", "马家乡", "龙安区", "305", "1187", "否", "18", "30", "4", "25", "2", "1", "3.2", "0", "802", "不通",
     "1", "1", "1", "2", "1", "是", "2023年核对"],
    ["龙泉村", "龙泉镇", "龙安区", "688", "2410", "是", "31", "52", "9", "61", "0", "3", "", "1", "1690", "是",
     "2", "3", "3", "4", "1", "是", ""],
]  # fmt: skip


def xlsx(title: str, headers: list[str], rows: list[list[str]], *, numbers: bool = False) -> bytes:
    """Title and export-info rows, header on row 3. ``numbers``: numeric-looking cells typed as numbers
    (as a user's re-save in Excel does), IDs kept as text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(["导出时间：2023-12-18 09:12:33  导出人：龙安区乡村振兴局"])
    ws.append(headers)
    for r in rows:
        out: list[object] = []
        for v in r:
            if numbers and v and len(v) < 12 and v.replace(".", "", 1).isdigit():
                out.append(float(v) if "." in v else int(v))
            else:
                out.append(v)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def gbk_csv(headers: list[str], rows: list[list[str]]) -> bytes:
    """As Excel's 另存为 CSV writes it on a Chinese Windows: GBK, CRLF, quotes only where needed."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode("gbk")


@pytest.fixture
def households(db):
    """The three households of the fixtures, as the 监测对象信息 import would have registered them."""
    wang = f.household(f.VILLAGE_A1, household_no="4105062052010001", cultivated_land_mu=Decimal("4.5"))
    f.person(wang, name="王建国", id_number=ID_WANG)
    f.person(wang, name="张桂兰", gender="F", relation="配偶", id_number=ID_WANG_WIFE)
    li = f.household(f.VILLAGE_A1, household_no="4105062052010002", has_sanitary_toilet=True)
    f.person(li, name="李秀英", gender="F", id_number=ID_LI)
    zhao = f.household(f.VILLAGE_A2, household_no="4105062052020001", household_type="一般农户")
    f.person(zhao, name="赵铁柱", id_number=ID_ZHAO)
    return wang, li, zhao


def _snapshot(model) -> list[tuple]:
    fields = [fl.attname for fl in model._meta.concrete_fields if fl.attname not in ("id", "created_at", "updated_at", "source_ref", "source_at", "version", "updated_by_id")]  # fmt: skip
    return sorted(tuple(str(getattr(o, a)) for a in fields) for o in model.objects.all())


def _sheet(path: Path) -> list[list[str]]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [[("" if v is None else str(v)) for v in r] for r in rows]


# --------------------------------------------------------------------------- 户信息


def test_living_conditions_national_file_imports_with_history_provenance_and_audit(personas, households):
    wang, li, zhao = households
    batch = kind_import(
        on=ON,
        actor=personas["county_admin"],
        kind="living_conditions",
        file_name="（乡村建设）户信息_20231218.xlsx",
        data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS),
    )
    assert batch.status == "imported", list(batch.rejects.values_list("reason", flat=True))
    assert (batch.header_row, batch.rows, batch.created, batch.kind) == (3, 3, 3, "living_conditions")
    lc = HouseholdLivingConditions.objects.get(household=li)
    assert lc.is_dangerous_house is True and lc.dangerous_house_grade == "C级"
    assert lc.has_sanitary_toilet is False and lc.toilet_usable is None  # blank cell: the file does not say
    assert lc.house_area_m2 == Decimal("85.50") and lc.main_fuel == "柴草" and lc.natural_village == "后岗"
    assert (lc.tap_water, lc.water_interval_under_24h, lc.has_shower, lc.courtyard_beautified) == (
        True,
        False,
        False,
        False,
    )
    zhao = HouseholdLivingConditions.objects.get(household=households[2])
    assert (zhao.clean_energy_types, zhao.clean_energy_note, zhao.toilet_type) == (
        "太阳能",
        "空气能热水器",
        "三格化粪池式",
    )
    assert zhao.safe_drinking_water is False and zhao.toilet_indoor is True
    assert lc.source_kind == "import" and lc.source_ref == f"导入批次#{batch.pk} 第5行"
    assert lc.history.count() == 1 and lc.history.first().history_change_reason == f"导入批次#{batch.pk}"
    # the household row (another source) is left alone; the disagreement is counted in the report
    li.refresh_from_db()
    assert li.has_sanitary_toilet is True
    assert batch.details["differs_from_household"]["是否有卫生户厕"] >= 1
    assert any(line.startswith("户主姓名：") for line in batch.details["not_stored"])
    ev = AuditEvent.objects.filter(event_type="registry.import").latest("seq")
    assert ev.data["kind"] == "living_conditions" and ev.data["created"] == 3


@pytest.mark.parametrize("variant", ["xlsx_numbers", "gbk_csv"])
def test_living_conditions_messy_variants_import_to_the_same_records_and_reimport_changes_nothing(
    personas, households, variant
):
    admin = personas["county_admin"]
    first = kind_import(
        on=ON, actor=admin, kind="living_conditions", file_name="户信息.xlsx",
        data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS),
    )  # fmt: skip
    assert first.status == "imported"
    before = _snapshot(HouseholdLivingConditions)
    history = HouseholdLivingConditions.history.count()
    facts = FactProvenance.objects.count()
    if variant == "gbk_csv":
        data, name = gbk_csv(MESSY_LIVING_HEADERS, MESSY_LIVING_ROWS), "户信息（另存）.csv"
    else:
        data, name = (
            xlsx("户信息", MESSY_LIVING_HEADERS, MESSY_LIVING_ROWS, numbers=True),
            "户信息（另存）.xlsx",
        )
    asked = kind_import(on=ON, actor=admin, kind="living_conditions", file_name=name, data=data)
    # the county's own 备注 column is no national header: the question is asked, nothing written
    assert asked.status == "mapping" and asked.details["mapping_question"]["unknown"] == ["备注"]
    assert _snapshot(HouseholdLivingConditions) == before
    import_mapping_save(
        actor=admin, file_name=name, data=data, answers={"备注": "不导入"}, on=ON, kind="living_conditions"
    )
    again = kind_import(on=ON, actor=admin, kind="living_conditions", file_name=name, data=data)
    assert again.status == "imported", list(again.rejects.values_list("row", "column", "reason"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert _snapshot(HouseholdLivingConditions) == before
    assert HouseholdLivingConditions.history.count() == history and FactProvenance.objects.count() == facts
    mapped = again.details["mapped"]
    assert (
        mapped["是否有卫生户厕"]["有→是"] == 3
        and mapped["是否有卫生户厕"]["无→否"] == 1
        and mapped["危房级别"]["C→C级"] == 1
    )
    assert again.details["unknown_columns"] == [] and again.details["duplicate_columns"] == []
    assert again.details["columns_answered_not_stored"] == ["备注"]


def test_living_conditions_change_updates_one_record_with_history_and_field_provenance(personas, households):
    admin = personas["county_admin"]
    kind_import(on=ON, actor=admin, kind="living_conditions", file_name="a.xlsx",
                data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS))  # fmt: skip
    rows = [list(r) for r in LIVING_ROWS]
    rows[1][COL["是否危房"]], rows[1][COL["危房级别"]] = "否", ""  # 李秀英's house repaired
    b = kind_import(on=ON, actor=admin, kind="living_conditions", file_name="b.xlsx",
                    data=xlsx("（乡村建设）户信息", LIVING_HEADERS, rows))  # fmt: skip
    assert (b.created, b.updated, b.unchanged) == (0, 1, 2)
    lc = HouseholdLivingConditions.objects.get(household=households[1])
    assert lc.is_dangerous_house is False and lc.dangerous_house_grade == "" and lc.version == 2
    assert lc.history.count() == 2 and lc.history.first().is_dangerous_house is False
    fp = FactProvenance.objects.filter(entity="living", entity_id=lc.pk)
    assert {p.field for p in fp} == {"is_dangerous_house", "dangerous_house_grade"}
    assert all(p.source_ref == f"导入批次#{b.pk} 第5行" for p in fp)


def test_living_conditions_bad_rows_are_rejected_in_chinese_and_nothing_is_written(personas, households):
    rows = [list(r) for r in LIVING_ROWS]
    rows[0][COL["是否通生活用电"]] = "也许"
    rows[1][COL["户编号"]] = "4105062052019999"  # unknown household
    rows[2][COL["行政村"]] = "王家岗村民委员会"  # 北齐's household said to be in 王家岗
    rows.append(list(LIVING_ROWS[0]))
    rows[3][0], rows[3][COL["证件号码"]] = "4", ID_ZHAO  # same household again, with someone else's ID
    rows[3][COL["住房面积（平方米）"]] = "130.00"  # … and another house area
    batch = kind_import(on=ON, actor=personas["county_admin"], kind="living_conditions", file_name="坏.xlsx",
                        data=xlsx("（乡村建设）户信息", LIVING_HEADERS, rows))  # fmt: skip
    assert batch.status == "failed" and HouseholdLivingConditions.objects.count() == 0
    got = {(r.row, r.column, r.code) for r in ImportReject.objects.filter(batch=batch)}
    assert got == {
        (4, "是否通生活用电", "bad_bool"),
        (5, "户编号", "unknown_household"),
        (6, "行政村", "village_mismatch"),
        (7, "证件号码", "person_not_in_household"),
        (7, "住房面积（平方米）", "household_conflict"),
    }
    msgs = {r.code: r.reason for r in ImportReject.objects.filter(batch=batch)}
    assert "不在您的管辖范围内" in msgs["unknown_household"] and "另见第4行" in msgs["household_conflict"]
    fh, _ = import_report_open(actor=personas["county_admin"], batch_id=batch.pk)  # decrypted, audited
    with fh:
        plain = Path(batch.error_report_path).with_suffix(".clear.xlsx")
        plain.write_bytes(fh.read())
    report = _sheet(plain)
    plain.unlink()
    assert report[2][-1] == "错误原因" and "是否通生活用电" in report[3][-1] and "户编号" in report[4][-1]
    assert len(report) == 3 + 4  # every original row, so the fixed sheet can be uploaded again
    assert AuditEvent.objects.filter(event_type="registry.import", result="rejected").exists()


def test_a_household_outside_the_importers_scope_is_unknown_and_only_importers_may_import(
    personas, households
):
    from fangpin.core.errors import PermissionDenied

    other = f.household("420625100201", household_no="4206251002010001")  # 谷城县, another county
    f.person(other, name="周大海", id_number=make_id_number("420625", dt.date(1970, 1, 1), 5, "M"))
    rows = [list(LIVING_ROWS[0])]
    rows[0][1:6] = ["谷城县", "城关镇", "", "", "4206251002010001"]
    rows[0][7] = ""
    batch = kind_import(on=ON, actor=personas["county_admin"], kind="living_conditions", file_name="a.xlsx",
                        data=xlsx("（乡村建设）户信息", LIVING_HEADERS, rows))  # fmt: skip
    assert batch.status == "failed"
    assert [(r.row, r.code) for r in batch.rejects.all()] == [(4, "unknown_household")]
    with pytest.raises(PermissionDenied):
        kind_import(on=ON, actor=personas["cadre_a1"], kind="living_conditions", file_name="a.xlsx",
                    data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS))  # fmt: skip


def test_living_conditions_round_trip_cell_for_cell(personas, households, tmp_path):
    admin = personas["county_admin"]
    kind_import(on=ON, actor=admin, kind="living_conditions", file_name="a.xlsx",
                data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS))  # fmt: skip
    out, n = kind_export(
        actor=admin, kind="living_conditions", out_path=tmp_path / "户信息.xlsx", unmasked=True
    )
    sheet = _sheet(out)
    assert n == 3 and sheet[0][0] == "（乡村建设）户信息"
    assert sheet[2] == LIVING_HEADERS
    assert sheet[3:] == LIVING_ROWS
    masked, _ = kind_export(actor=admin, kind="living_conditions", out_path=tmp_path / "m.csv")
    text = masked.read_text(encoding="utf-8-sig")
    assert ID_WANG not in text and ID_WANG[:6] in text
    # the masked export re-imports as a no-op (masked IDs are not checked against the members)
    back = kind_import(
        on=ON, actor=admin, kind="living_conditions", file_name="m.csv", data=masked.read_bytes()
    )
    assert back.status == "imported" and back.unchanged == 3


# --------------------------------------------------------------------------- 行政村信息


def test_village_profile_imports_variants_reimports_as_no_op_and_round_trips(personas, tmp_path):
    admin = personas["county_admin"]
    batch = kind_import(on=ON, actor=admin, kind="village_profile", file_name="（自定义）行政村信息.xlsx",
                        data=xlsx("（自定义）行政村信息", VILLAGE_HEADERS, VILLAGE_ROWS))  # fmt: skip
    assert batch.status == "imported", list(batch.rejects.values_list("reason", flat=True))
    assert batch.created == 3
    vp = VillageProfile.objects.get(village_id=f.VILLAGE_A1)
    assert (vp.delisted, vp.households_total, vp.dibao_persons, vp.cultural_rooms) == (True, 412, 41, 1)
    assert vp.collective_income_10k == Decimal("12.50") and vp.history.count() == 1
    assert VillageProfile.objects.get(village_id=f.VILLAGE_B1).collective_income_10k is None
    before, history = _snapshot(VillageProfile), VillageProfile.history.count()
    variants = [
        ("行政村（另存）.xlsx", xlsx("行政村信息", MESSY_VILLAGE_HEADERS, MESSY_VILLAGE_ROWS, numbers=True)),
        ("行政村（另存）.csv", gbk_csv(MESSY_VILLAGE_HEADERS, MESSY_VILLAGE_ROWS)),
    ]
    for n, (name, data) in enumerate(variants):
        if n == 0:  # 备注 is asked about once; the CSV of the same layout reuses the answer
            asked = kind_import(on=ON, actor=admin, kind="village_profile", file_name=name, data=data)
            assert asked.status == "mapping" and asked.details["mapping_question"]["unknown"] == ["备注"]
            import_mapping_save(
                actor=admin,
                file_name=name,
                data=data,
                answers={"备注": "不导入"},
                on=ON,
                kind="village_profile",
            )
        again = kind_import(on=ON, actor=admin, kind="village_profile", file_name=name, data=data)
        assert again.status == "imported", list(again.rejects.values_list("row", "column", "reason"))
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert _snapshot(VillageProfile) == before and VillageProfile.history.count() == history
    out, n = kind_export(actor=admin, kind="village_profile", out_path=tmp_path / "行政村信息.xlsx")
    sheet = _sheet(out)
    k = len(VILLAGE_HEADERS)
    extra = [
        "饮水困难户数",
        "自然村（村民小组）数",
        "劳动力人数",
        "外出务工人数",
        "通宽带户数（户）",
        "村代码",
    ]
    assert n == 3 and sheet[2][:k] == VILLAGE_HEADERS and sheet[2][k:] == extra
    assert [r[:k] for r in sheet[3:]] == VILLAGE_ROWS
    # the counts the file did not have stay blank (not 0); the village code comes last
    assert [r[k:] for r in sheet[3:]] == [
        ["", "", "", "", "", code] for code in (f.VILLAGE_B1, f.VILLAGE_A1, f.VILLAGE_A2)
    ]


def test_village_record_counts_beyond_the_checkers_columns_are_stored_when_a_file_has_them(personas):
    headers = ["县", "乡", "村", "总户数", "饮水困难户数", "自然村（村民小组）数", "外出务工人数"]
    batch = kind_import(on=ON, actor=personas["county_admin"], kind="village_profile", file_name="a.xlsx",
                        data=xlsx("（自定义）行政村信息", headers, [["龙安区", "马家乡", "北齐", "305", "4", "6", "211"]]))  # fmt: skip
    assert batch.status == "imported"
    vp = VillageProfile.objects.get(village_id=f.VILLAGE_A2)
    assert (vp.households_total, vp.water_difficult_households, vp.natural_villages, vp.migrant_workers) == (
        305,
        4,
        6,
        211,
    )
    assert vp.delisted is None and vp.labour_persons is None


def test_village_profile_rejects_unknown_duplicate_and_bad_counts(personas):
    rows = [list(r) for r in VILLAGE_ROWS]
    rows[0][5] = "四百"  # 总户数
    rows[1][3] = "不存在村"
    rows.append(list(VILLAGE_ROWS[2]))
    rows.append(["4", "龙安区", "马家乡", "", "否", "12", *VILLAGE_ROWS[2][6:]])  # a row without its village
    rows.append(["合计", "", "", "", "", "1405", "5133", *[""] * 16])  # the export's totals row
    batch = kind_import(on=ON, actor=personas["county_admin"], kind="village_profile", file_name="坏.xlsx",
                        data=xlsx("（自定义）行政村信息", VILLAGE_HEADERS, rows))  # fmt: skip
    assert batch.status == "failed" and VillageProfile.objects.count() == 0
    got = {(r.row, r.column, r.code) for r in batch.rejects.all()}
    assert got == {
        (4, "总户数", "bad_number"),
        (5, "村", "unknown_village"),
        (7, "村", "duplicate_village"),
        (8, "村", "unknown_village"),
    }
    assert batch.details["total_rows_skipped"] == [9]
    dup = kind_import(on=ON, actor=personas["county_admin"], kind="village_profile", file_name="b.xlsx",
                      data=xlsx("（自定义）行政村信息", [*VILLAGE_HEADERS, "户数"], [[*r, "999"] for r in VILLAGE_ROWS]))  # fmt: skip
    assert dup.status == "imported" and dup.details["duplicate_columns"] == ["户数"]
    assert (
        VillageProfile.objects.get(village_id=f.VILLAGE_A1).households_total == 412
    )  # the first 总户数 column


def test_a_village_outside_the_importers_scope_is_unknown(personas):
    rows = [list(VILLAGE_ROWS[0]), ["2", "谷城县", "城关镇", "青山村村民委员会", *VILLAGE_ROWS[1][4:]]]
    batch = kind_import(on=ON, actor=personas["county_admin"], kind="village_profile", file_name="a.xlsx",
                        data=xlsx("（自定义）行政村信息", VILLAGE_HEADERS, rows))  # fmt: skip
    assert batch.status == "failed" and VillageProfile.objects.count() == 0
    assert [(r.row, r.code) for r in batch.rejects.all()] == [(5, "unknown_village")]


# --------------------------------------------------------------------------- sniffing and commands


def test_the_file_kind_is_sniffed_from_the_header():
    assert sniff_file_kind([["（乡村建设）户信息"], [""], LIVING_HEADERS]) == "living_conditions"
    # a row per member with 姓名, but none of the member columns (与户主关系, 性别 …) of 监测对象信息
    assert sniff_file_kind([MESSY_LIVING_HEADERS]) == "living_conditions"
    assert sniff_file_kind([["标题"], VILLAGE_HEADERS]) == "village_profile"
    assert sniff_file_kind([MESSY_VILLAGE_HEADERS]) == "village_profile"
    person = ["县", "乡", "村", "户编号", "姓名", "证件号码", "与户主关系", "性别", "出生日期"]
    assert sniff_file_kind([["（自定义）监测对象信息"], [], person]) == "registry"


def test_the_national_file_name_tells_the_kind():
    from fangpin.registry.io.kinds import kind_from_file_name

    assert kind_from_file_name("（乡村建设）户信息_20231218.xlsx") == "living_conditions"
    assert kind_from_file_name("（自定义）行政村信息.xlsx") == "village_profile"
    assert kind_from_file_name("（自定义）监测对象信息 (22).xlsx") == "registry"
    assert (
        kind_from_file_name("（基础信息）户信息_20231218.xlsx") == "registry"
    )  # the person-level base table
    assert kind_from_file_name("户信息.xlsx") is None and kind_from_file_name("导出.xlsx") is None


def test_dry_run_writes_nothing_and_a_file_without_its_header_is_refused(personas, households):
    admin = personas["county_admin"]
    dry = kind_import(on=ON, actor=admin, kind="living_conditions", file_name="a.xlsx", dry_run=True,
                      data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS))  # fmt: skip
    assert dry.status == "checked" and HouseholdLivingConditions.objects.count() == 0
    assert dry.details["households_counts"] == {"created": 3, "updated": 0, "unchanged": 0}
    wrong = kind_import(on=ON, actor=admin, kind="village_profile", file_name="a.xlsx",
                        data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS))  # fmt: skip
    assert wrong.status == "failed"
    r = wrong.rejects.get()
    assert r.code == "no_header" and "行政村信息" in r.reason and "“村”" in r.reason


def test_commands_import_by_sniffed_kind_and_export(personas, households, tmp_path):
    src = tmp_path / "2023年12月导出.xlsx"  # no national name: the header tells
    src.write_bytes(xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS))
    out = StringIO()
    call_command("import_registry", str(src), "--as", "county_admin", stdout=out)
    assert "（乡村建设）户信息" in out.getvalue() and "新增3" in out.getvalue()
    assert HouseholdLivingConditions.objects.count() == 3
    vsrc = tmp_path / "村情（另存）.csv"
    vsrc.write_bytes(gbk_csv(MESSY_VILLAGE_HEADERS, MESSY_VILLAGE_ROWS))
    out = StringIO()
    with pytest.raises(CommandError, match="1个表头未识别（备注）"):
        call_command("import_registry", str(vsrc), "--as", "county_admin", stdout=out)
    assert "未识别的表头“备注”" in out.getvalue() and VillageProfile.objects.count() == 0
    out = StringIO()
    call_command("import_registry", str(vsrc), "--as", "county_admin", "--map", "备注=不导入", stdout=out)
    assert (
        "行政村信息" in out.getvalue()
        and "已按标准值识别【是否通客运班车】：通→是（1处）、不通→否（1处）" in out.getvalue()
    )
    assert VillageProfile.objects.count() == 3
    dest = tmp_path / "out.xlsx"
    out = StringIO()
    call_command(
        "export_registry", str(dest), "--kind", "village_profile", "--as", "county_admin", stdout=out
    )
    assert "已导出3行" in out.getvalue() and _sheet(dest)[2][:3] == ["序号", "县", "乡"]


def test_admin_shows_the_imported_facts_read_only_and_scoped(personas, households, rf):
    from django.contrib import admin

    kind_import(on=ON, actor=personas["county_admin"], kind="living_conditions", file_name="a.xlsx",
                data=xlsx("（乡村建设）户信息", LIVING_HEADERS, LIVING_ROWS))  # fmt: skip
    kind_import(on=ON, actor=personas["county_admin"], kind="village_profile", file_name="b.xlsx",
                data=xlsx("（自定义）行政村信息", VILLAGE_HEADERS, VILLAGE_ROWS))  # fmt: skip
    for model in (HouseholdLivingConditions, VillageProfile):
        ma = admin.site._registry[model]
        request = rf.get("/")
        request.user = personas["cadre_a2"]  # 北齐村
        assert not ma.has_add_permission(request) and not ma.has_change_permission(request)
        assert not ma.has_delete_permission(request)
        seen = ma.get_queryset(request)
        assert seen.count() == 1
        assert (
            seen.get().household.village_id if model is HouseholdLivingConditions else seen.get().village_id
        ) == f.VILLAGE_A2


def test_village_checks_find_the_incomplete_and_inconsistent_delisted_villages(personas):
    from fangpin.registry.checks.villages import V_EMPTY, V_NO_ROAD, V_OVER_TOTAL, village_findings

    rows = [list(r) for r in VILLAGE_ROWS]
    rows[1][VILLAGE_HEADERS.index("到乡镇是否通沥青（水泥）路")] = "否"  # 王家岗 (出列)
    rows[1][VILLAGE_HEADERS.index("危房户数")] = "400"
    rows[1][VILLAGE_HEADERS.index("未实现饮水安全户数")] = "13"  # 400 + 13 > 412 households
    rows[2][VILLAGE_HEADERS.index("低保户数")] = ""  # 北齐 is not 出列: not checked
    kind_import(on=ON, actor=personas["county_admin"], kind="village_profile", file_name="a.xlsx",
                data=xlsx("（自定义）行政村信息", VILLAGE_HEADERS, rows))  # fmt: skip
    got = {(f.code, f.village_code, f.field) for f in village_findings(actor=personas["county_admin"])}
    assert got == {
        (V_EMPTY, f.VILLAGE_B1, "collective_income_10k"),  # 龙泉村 (出列) left it blank
        (V_NO_ROAD, f.VILLAGE_A1, "paved_road_to_township"),
        (V_OVER_TOTAL, f.VILLAGE_A1, "households_total"),
    }
    # a cadre of 北齐 sees none of them; the command prints the counts
    assert village_findings(actor=personas["cadre_a2"]) == []
    out = StringIO()
    call_command("check_villages", "--as", "county_admin", stdout=out)
    assert (
        "合计 3 条问题" in out.getvalue()
        and "出列村“村级集体经济收入（万元）”为空或为0（1_03_003）" in out.getvalue()
    )


def test_a_household_type_the_registry_does_not_share_is_counted_not_refused(personas, households):
    rows = [list(r) for r in LIVING_ROWS]
    rows[0][COL["户类型"]] = "监测户"  # not a national value, and not stored here
    rows[1][COL["户类型"]] = "已脱贫户"  # a hand-kept spelling of 脱贫户
    rows[2][COL["户类型"]] = "脱贫户"  # the registry says 一般农户
    batch = kind_import(on=ON, actor=personas["county_admin"], kind="living_conditions", file_name="a.xlsx",
                        data=xlsx("（乡村建设）户信息", LIVING_HEADERS, rows))  # fmt: skip
    assert batch.status == "imported" and batch.created == 3
    assert batch.details["household_type_differs"] == 2
