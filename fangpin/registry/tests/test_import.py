"""Import of the national 监测对象信息 export: rejects, all-or-nothing, idempotence, provenance, CSV/GBK."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import PermissionDenied
from fangpin.core.ids import upgrade_15
from fangpin.core.masking import mask_id_number
from fangpin.registry.io import columns as C
from fangpin.registry.io import validate as V
from fangpin.registry.io.read import E_CORRUPT, E_FORMAT, read_table
from fangpin.registry.models import (
    FactProvenance,
    Household,
    ImportStatus,
    IncomeRecord,
    Person,
)
from fangpin.registry.services.imports import import_report_open, registry_import
from fangpin.testing.factories import VILLAGE_A1, VILLAGE_A2

from .national_file import person_id, xlsx_bytes

ON = dt.date(2026, 12, 1)  # the business date the imports act on

pytestmark = pytest.mark.django_db

# Shuffled columns, alias headers (县(市、区、旗), 身份证, 检测对象类别, 风险是否消除, 人均纯收入), an unknown column.
HEADERS = [
    "序号",
    "户编号",
    "姓名",
    "身份证",
    "与户主关系",
    "县(市、区、旗)",
    "乡",
    "村",
    "户类型",
    "性别",
    "出生日期",
    "证件类型",
    "健康状况",
    "劳动技能",
    "家庭成员联系电话",
    "检测对象类别",
    "识别监测时间",
    "致贫/返贫风险1",
    "风险是否消除",
    "工资性收入",
    "转移性收入",
    "人均纯收入",
    "是否危房户",
    "备注（本县自加）",
]

B1 = dt.date(1975, 1, 20)
B2 = dt.date(1978, 3, 2)
ID1 = person_id("410506", B1, 1, "M")
ID2 = person_id("410506", B2, 2, "F")
DIS = person_id("410506", dt.date(1960, 8, 8), 3, "M")
ID_OLD15 = "410506650405123"  # 15-digit: born 1965-04-05, male (odd)
ID4 = person_id("410506", dt.date(1990, 2, 2), 4, "F")


def good_rows() -> list[list[object]]:
    """Two households, four persons; household H1 is a monitoring object."""
    return [
        # 序号 户编号 姓名 身份证 关系 县 乡 村 户类型 性别 出生日期 证件类型 健康 劳动 电话 类别 识别 风险1 消除 工资 转移 人均 危房 备注
        [
            1,
            "H1",
            "王建国",
            ID1,
            "户主",
            "龙安区",
            "马家乡",
            "王家岗村",
            "脱贫户",
            "男",
            "19750120",
            "身份证",
            "健康",
            "普通劳动力",
            "13812345678",
            "脱贫不稳定户",
            "202305",
            "因病",
            "否",
            12000,
            3000,
            5000,
            "是",
            "x",
        ],
        [
            2,
            "H1",
            "李秀英",
            ID2,
            "配偶",
            "龙安区",
            "马家乡",
            "王家岗村",
            "脱贫户",
            "女",
            "1978-03-02",
            "身份证",
            "长期慢性病",
            "普通劳动力",
            "",
            "脱贫不稳定户",
            "202305",
            "因病",
            "否",
            12000,
            3000,
            5000,
            "是",
            "",
        ],
        [
            3,
            "H1",
            "王伯",
            DIS + "41",
            "之父",
            "龙安区",
            "马家乡",
            "王家岗村",
            "脱贫户",
            "男",
            "",
            "残疾人证",
            "残疾",
            "丧失劳动力",
            "",
            "脱贫不稳定户",
            "202305",
            "因病",
            "否",
            12000,
            3000,
            5000,
            "是",
            "",
        ],
        [
            4,
            "H2",
            "赵四",
            ID_OLD15,
            "户主",
            "龙安区",
            "马家乡",
            "北齐村村民委员会",
            "一般农户",
            "男",
            "",
            "身份证",
            "健康",
            "普通劳动力",
            "13900001111",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "否",
            "",
        ],
    ]


def _run(admin, rows, *, headers=HEADERS, name="监测对象信息.xlsx", year=2023, **kw):
    data = xlsx_bytes(headers, rows)
    return registry_import(on=ON, actor=admin, file_name=name, data=data, income_year=year, **kw), data


def test_valid_file_imports_with_provenance_history_income_and_audit(personas):
    admin = personas["county_admin"]
    batch, data = _run(admin, good_rows())
    assert batch.status == ImportStatus.IMPORTED, list(batch.rejects.values_list("row", "column", "reason"))
    assert (batch.rows, batch.households, batch.persons) == (4, 2, 4)
    assert (batch.created, batch.updated, batch.unchanged, batch.rejected) == (4, 0, 0, 0)
    assert batch.header_row == 3
    assert batch.sha256 == hashlib.sha256(data).hexdigest()
    assert batch.details["unknown_columns"] == []  # answered once: 不导入 (tests/conftest.py)
    assert {"column": "备注（本县自加）", "reason": "按已保存的列对应设为“不导入”，未保存"} in batch.details[
        "columns_not_stored"
    ]

    h1 = Household.objects.get(household_no="H1")
    h2 = Household.objects.get(household_no="H2")
    assert h1.village_id == VILLAGE_A1 and h2.village_id == VILLAGE_A2  # 村民委员会 suffix normalised
    assert h1.household_type == "脱贫户" and h1.house_grade == "C" and h2.house_grade == ""
    assert h1.source_kind == "import" and h1.source_ref == f"导入批次#{batch.pk} 第4行"

    p1 = Person.objects.get(id_number=ID1)
    assert (p1.name, p1.gender, p1.birth_date, p1.phone) == ("王建国", "M", B1, "13812345678")
    assert p1.source_ref == f"导入批次#{batch.pk} 第4行"
    assert Person.objects.get(id_number=ID2).birth_date == B2  # 1978-03-02 accepted
    dis = Person.objects.get(id_number=DIS)  # 残疾人证 → the person's 18-digit ID + category/grade
    assert (dis.id_type, dis.disability_cert_no, dis.disability_category, dis.disability_grade) == (
        "残疾人证",
        DIS + "41",
        "4",
        1,
    )
    old = Person.objects.get(id_number=upgrade_15(ID_OLD15))  # 15-digit legacy number upgraded
    assert old.birth_date == dt.date(1965, 4, 5) and old.household_id == h2.id
    assert any("15位" in w for w in batch.details["warning_samples"])

    inc = IncomeRecord.objects.get(household=h1)
    assert (inc.period_start, inc.period_end) == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert (inc.wage, inc.transfer_other, inc.transfer) == (Decimal(12000), Decimal(3000), Decimal(3000))
    assert not IncomeRecord.objects.filter(household=h2).exists()  # all income cells blank

    assert Person.history.count() == 4 and Household.history.count() == 2
    assert batch.monitoring_rows[0]["household_no"] == "H1"
    assert batch.monitoring_rows[0]["risk_types"] == ["因病"]
    assert batch.monitoring_rows[0]["identified_on"] == "2023-05-01"
    ev = AuditEvent.objects.filter(event_type="registry.import").latest("seq")
    assert ev.data["sha256"] == batch.sha256 and ev.data["created"] == 4 and ev.result == "ok"
    assert AuditEvent.objects.filter(event_type="registry.import").count() == 1


def test_bad_rows_are_rejected_exactly_and_nothing_is_written(personas):
    admin = personas["county_admin"]
    rows = good_rows()
    bad_checksum = ID4[:-1] + ("0" if ID4[-1] != "0" else "1")
    base = list(rows[3])
    r5 = [5, "H3", "甲", bad_checksum, *base[4:]]
    r6 = [6, "H4", "乙", 4.10506198001011e17, *base[4:]]  # an ID Excel stored as a number
    r7 = [7, "H5", "丙", person_id("410506", dt.date(1991, 1, 1), 7, "M"), *base[4:]]
    r7[7] = "不存在村"
    r8 = [8, "H6", "丁", person_id("410506", dt.date(1992, 1, 1), 8, "M"), *base[4:]]
    r8[4] = "之子女"
    r9 = [9, "H7", "戊", person_id("410506", dt.date(1993, 1, 1), 9, "M"), *base[4:]]
    r9[15], r9[16], r9[17] = "边缘易致贫户", "209901", "因学"
    r10 = [10, "H8", "己", "4.10506E+17", *base[4:]]  # the scientific form pasted as text
    batch, _ = _run(admin, [*rows, r5, r6, r7, r8, r9, r10])
    assert batch.status == ImportStatus.FAILED
    got = sorted((r.row, r.column, r.code) for r in batch.rejects.all())
    assert got == [
        (8, "证件号码", "id_checksum"),
        (9, "证件号码", "id_scientific"),
        (10, "村", "unknown_village"),
        (11, "与户主关系", C.E_ENUM),
        (12, "识别监测时间", C.E_FUTURE),
        (13, "证件号码", "id_scientific"),
    ]
    enum = batch.rejects.get(row=11)
    assert enum.value == "之子女" and "可选值：户主、配偶" in enum.reason
    assert batch.rejects.get(row=10).reason.startswith("行政村“龙安区马家乡不存在村”不存在")
    assert batch.rejected == 6
    assert (
        Household.objects.count() == 0 and Person.objects.count() == 0 and IncomeRecord.objects.count() == 0
    )
    # The reject report: original rows + 错误原因, header on row 3, IDs as text and masked.
    # kept encrypted at rest; read as the download serves it
    assert Path(batch.error_report_path).read_bytes()[:4] == b"FPBK"
    fh, _ = import_report_open(actor=personas["county_admin"], batch_id=batch.pk)
    wb = openpyxl.load_workbook(fh, read_only=True)
    ws = wb["导入数据"]
    sheet = [list(r) for r in ws.iter_rows(values_only=True)]
    assert sheet[2][-1] == "错误原因" and sheet[2][:3] == ["序号", "户编号", "姓名"]
    assert len(sheet) == 3 + 10
    assert sheet[3][3] == mask_id_number(ID1) and sheet[3][-1] in (None, "")
    assert not any(ID1 in str(c) for r in sheet for c in r)
    assert "校验位错误" in sheet[3 + 4][-1]
    ev = AuditEvent.objects.filter(event_type="registry.import").latest("seq")
    assert ev.result == "rejected" and ev.data["rejected"] == 6


def test_reimport_is_a_no_op_and_a_changed_phone_updates_one_person(personas):
    admin = personas["county_admin"]
    _run(admin, good_rows())
    history = (Person.history.count(), Household.history.count(), IncomeRecord.history.count())
    again, _ = _run(admin, good_rows())
    assert again.status == ImportStatus.IMPORTED
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert again.details["households_counts"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert again.details["income_counts"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert (Person.history.count(), Household.history.count(), IncomeRecord.history.count()) == history

    rows = good_rows()
    rows[1][14] = "13700002222"
    third, _ = _run(admin, rows)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 3)
    p = Person.objects.get(id_number=ID2)
    assert p.phone == "13700002222" and p.version == 2
    assert p.source_ref == f"导入批次#{third.pk} 第5行"
    assert Person.history.count() == history[0] + 1
    assert p.history.latest().history_change_reason == f"导入批次#{third.pk}"
    fact = FactProvenance.objects.get(entity="person", entity_id=p.id, field="phone")
    assert fact.value == "137****2222" and fact.source_kind == "import"


def test_household_rows_that_disagree_and_duplicate_ids_are_rejected(personas):
    rows = good_rows()
    rows[1][8] = "一般农户"  # H1's second member says another 户类型
    rows[3][3] = ID1  # H2's head carries H1's head's ID
    batch, _ = _run(personas["county_admin"], rows)
    assert batch.status == ImportStatus.FAILED
    codes = {(r.row, r.code) for r in batch.rejects.all()}
    # only the deviating row is blamed, not its clean siblings (rows 4 and 6 agree on 脱贫户)
    assert (5, V.E_HH_CONFLICT) in codes
    assert (4, V.E_HH_CONFLICT) not in codes and (6, V.E_HH_CONFLICT) not in codes
    conflict = batch.rejects.get(row=5, code=V.E_HH_CONFLICT)
    assert "第4、6行" in conflict.reason and "脱贫户" in conflict.reason
    assert {(4, V.E_DUP_ID), (7, V.E_DUP_ID)} <= codes
    dup = batch.rejects.get(row=7, code=V.E_DUP_ID)
    assert "另见第4行" in dup.reason
    assert Person.objects.count() == 0


def test_dry_run_counts_without_writing(personas):
    batch, _ = _run(personas["county_admin"], good_rows(), dry_run=True)
    assert batch.status == ImportStatus.CHECKED and batch.created == 4
    assert Person.objects.count() == 0 and Household.objects.count() == 0


def test_csv_in_gbk_without_title_rows(personas):
    headers = ["户编号", "姓名", "证件号码", "与户主关系", "村代码", "户类型", "性别"]
    lines = [",".join(headers), f"H9,孙悟空,{ID1},户主,{VILLAGE_A1},一般农户,男"]
    data = ("\r\n".join(lines) + "\r\n").encode("gbk")
    batch = registry_import(
        on=ON, actor=personas["county_admin"], file_name="名单.csv", data=data, income_year=2023
    )
    assert batch.status == ImportStatus.IMPORTED, list(batch.rejects.values_list("reason", flat=True))
    assert batch.header_row == 1
    assert Person.objects.get(id_number=ID1).name == "孙悟空"


def test_csv_utf8_bom_and_reader_keeps_ids_as_text():
    data = ("\ufeff户编号,姓名,证件号码,与户主关系\nH1,张三,41050619750120001X,户主\n").encode()
    t = read_table(data, "a.csv")
    assert t.column_values("id_number") == ["41050619750120001X"]


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"PK\x03\x04garbage-not-a-zip", "a.xlsx", E_CORRUPT),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old.xls", E_FORMAT),
        (b"%PDF-1.4", "scan.pdf", E_FORMAT),
    ],
)
def test_not_an_export_gives_a_clear_error_and_writes_nothing(personas, data, name, code):
    batch = registry_import(on=ON, actor=personas["county_admin"], file_name=name, data=data)
    assert batch.status == ImportStatus.FAILED
    rej = batch.rejects.get()
    assert rej.code == code and rej.row == 0
    assert any(w in rej.reason for w in ("损坏", "不支持"))
    assert Household.objects.count() == 0


def test_only_importers_may_import_and_villages_outside_scope_are_unknown(personas):
    with pytest.raises(PermissionDenied):
        registry_import(
            on=ON, actor=personas["cadre_a1"], file_name="a.xlsx", data=xlsx_bytes(HEADERS, good_rows())
        )
    rows = good_rows()
    rows[3][5:8] = ["谷城县", "城关镇", "东街社区"]  # another county (loaded, but outside 龙安区)
    batch, _ = _run(personas["county_admin"], rows)
    assert [(r.row, r.code) for r in batch.rejects.all()] == [(7, "unknown_village")]


def test_cli_imports_and_exits_non_zero_on_rejects(personas, tmp_path, capsys):
    ok = tmp_path / "ok.xlsx"
    ok.write_bytes(xlsx_bytes(HEADERS, good_rows()))
    call_command("import_registry", str(ok), "--as", "county_admin", "--income-year", "2023")
    out = capsys.readouterr().out
    assert "人：新增4 更新0 未变0" in out and "监测对象：1户" in out
    rows = good_rows()
    rows[0][4] = "之子女"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes(HEADERS, rows))
    with pytest.raises(CommandError):
        call_command("import_registry", str(bad), "--as", "county_admin", "--now")
    err = capsys.readouterr().err
    assert "第4行【与户主关系】“之子女”不是有效值，可选值：户主" in err and "错误报告" in err


@pytest.mark.parametrize("refused", ["items", "whole call"])
def test_a_refusal_by_monitoring_rolls_the_whole_import_back(personas, monkeypatch, refused):
    # The import hands its monitoring households over in one enrol_existing_many call; monitoring refuses
    # single items (EnrolmentRefused names their positions) or the call as a whole (a plain DomainError).
    from fangpin.core.errors import DomainError
    from fangpin.monitoring.services.enrolment import EnrolmentRefused
    from fangpin.registry.services import imports as svc

    real = svc.hooks.monitoring

    def refuse(*, actor, items):
        e = DomainError("already_monitored", "该户已有另一条在监测的记录（识别时间不同），请核对")
        raise EnrolmentRefused([(0, e)]) if refused == "items" else e

    monkeypatch.setattr(
        svc.hooks, "monitoring", lambda: dataclasses.replace(real(), enrol_existing_many=refuse)
    )
    batch, _ = _run(personas["county_admin"], good_rows())
    assert batch.status == ImportStatus.FAILED
    assert [(r.row, r.code) for r in batch.rejects.all()] == [(4, "already_monitored")]
    assert (batch.created, batch.rejected) == (0, 1)
    assert AuditEvent.objects.filter(event_type="registry.import").get().result == "rejected"
    assert Household.objects.count() == 0 and Person.objects.count() == 0
    assert Person.history.count() == 0 and IncomeRecord.objects.count() == 0


def test_eliminated_without_method_is_rejected_before_writing(personas):
    headers = [*HEADERS, "消除监测时间"]
    rows = [[*r, ""] for r in good_rows()]
    for r in rows[:3]:
        r[18], r[-1] = "是", "202310"
    batch, _ = _run(personas["county_admin"], rows, headers=headers)
    # Household-level facts are checked once, on the household's first row.
    assert [(r.row, r.column, r.code) for r in batch.rejects.all()] == [(4, "风险消除方式", V.E_MONITORING)]
    assert Household.objects.count() == 0


def test_a_csv_with_a_bare_carriage_return_in_a_field_is_refused_in_chinese(personas):
    """A hand-saved CSV whose field holds a bare carriage return (csv refuses the row) is a refused file
    naming the line, never a server error (found by fuzzing the API's upload)."""
    admin = personas["county_admin"]
    before = Household.objects.count()
    data = "户编号,姓名,证件号码\n4105060001,张\r三,410506199001011234\n".encode()
    batch = registry_import(on=ON, actor=admin, file_name="监测对象信息.csv", data=data, income_year=2023)
    assert batch.status == ImportStatus.FAILED
    reasons = list(batch.rejects.values_list("reason", flat=True))
    assert any("CSV文件第" in r and "格式错误" in r for r in reasons), reasons
    assert Household.objects.count() == before
    with pytest.raises(Exception) as exc:
        read_table(data, "x.csv")
    assert getattr(exc.value, "code", "") == E_FORMAT
