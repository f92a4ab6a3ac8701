"""The mapping question of the national 监测对象信息 import: unknown headers are never guessed; one question
(with a proposal and the first rows as parsed), an answer saved per header layout, audited and reused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household, ImportStatus, Person
from fangpin.registry.models.imports import ImportMapping
from fangpin.registry.services.import_mapping import (
    import_batch_remap,
    import_mapping_save,
    mapping_question,
)
from fangpin.registry.services.imports import import_batch_run, registry_import

ON = dt.date(2026, 12, 1)  # the business date the imports act on

pytestmark = pytest.mark.django_db

# Hand-written: a county's re-typed export (GBK, two title rows), headers no alias knows (see its README).
MESSY = Path(__file__).resolve().parents[3] / "tests" / "e2e" / "data" / "监测对象信息_县自定义表头.csv"

ANSWER = {
    "所属县": "县",
    "行政村名称": "村",
    "家庭编号": "户编号",
    "身份证件号码（18位）": "证件号码",
    "联系电话（手机）": "家庭成员联系电话",
    "人均纯收入【元】": "人均纯收入（元）",
    "村里备注": "不导入",
}


def _data() -> bytes:
    return MESSY.read_bytes()


def _rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(_data().decode("gbk"))))


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("gbk")


def test_unknown_headers_stop_the_import_with_the_question_and_write_nothing(personas):
    admin = personas["county_admin"]
    batch = registry_import(on=ON, actor=admin, file_name=MESSY.name, data=_data(), income_year=2025)
    assert batch.status == ImportStatus.MAPPING
    q = batch.details["mapping_question"]
    assert q["unknown"] == ["所属县", "行政村名称", "家庭编号", "身份证件号码（18位）", "联系电话（手机）", "人均纯收入【元】", "村里备注"]  # fmt: skip
    assert q["missing_required"] == ["户编号", "证件号码"] and q["header_row"] == 3
    assert "家庭编号" in batch.message and "缺少必需列户编号、证件号码" in batch.message
    assert not Person.objects.filter(name="宋德海").exists()
    assert Path(batch.upload_path).is_file()  # kept for the answer
    ev = AuditEvent.objects.filter(event_type="registry.import").latest("seq")
    assert ev.result == "mapping_needed"


def test_the_question_proposes_but_never_applies_and_previews_the_first_rows(personas):
    admin = personas["county_admin"]
    q = mapping_question(on=ON, actor=admin, file_name=MESSY.name, data=_data())
    assert q["needed"] and q["saved"] is None
    by = {u["header"]: u for u in q["unknown"]}
    assert by["行政村名称"]["key"] == "village" and by["行政村名称"]["source"] == "proposal"
    assert by["家庭编号"]["key"] == "person_no"  # a wrong proposal: the user must see and correct it
    assert by["所属县"]["key"] is None and by["村里备注"]["key"] is None  # no close spelling: no guess
    # proposed mapping still misses 户编号 (家庭编号 proposed as 人编号)
    assert q["missing_required"] == ["户编号"]
    assert [r["row"] for r in q["rows"]] == [4, 5, 6]
    heads = [h["header"] for h in q["headers"]]
    cell = q["rows"][0]["cells"][heads.index("身份证件号码（18位）")]
    assert cell == {"text": "410506196203151239", "value": "410506196203151239", "error": ""}
    assert {h["header"]: h["column"] for h in q["headers"]}["序号"] == "不导入"
    assert q["rows"][0]["cells"][heads.index("序号")]["note"] == "不导入"
    assert q["rows"][0]["cells"][heads.index("所属县")] == {
        "text": "龙安区",
        "value": "",
        "error": "",
        "note": "未对应",
    }
    # the user's answers replace the proposals in the preview
    q2 = mapping_question(on=ON, actor=admin, file_name=MESSY.name, data=_data(), answers=ANSWER)
    assert (
        q2["missing_required"] == []
        and {h["header"]: h["column"] for h in q2["headers"]}["家庭编号"] == "户编号"
    )
    assert not ImportMapping.objects.filter(signature=q["signature"]).exists()  # asking changes nothing


def test_incomplete_or_contradictory_answers_are_refused_naming_the_header(personas):
    admin = personas["county_admin"]
    partial = {k: v for k, v in ANSWER.items() if k != "村里备注"}
    with pytest.raises(DomainError) as e:
        import_mapping_save(on=ON, actor=admin, file_name=MESSY.name, data=_data(), answers=partial)
    assert "村里备注" in e.value.message and e.value.field == "村里备注"
    with pytest.raises(DomainError) as e:
        import_mapping_save(
            on=ON, actor=admin, file_name=MESSY.name, data=_data(), answers={**ANSWER, "家庭编号": "人编号"}
        )
    assert "户编号" in e.value.message
    with pytest.raises(DomainError) as e:  # 姓名 is already the file's 成员 姓名
        import_mapping_save(
            on=ON, actor=admin, file_name=MESSY.name, data=_data(), answers={**ANSWER, "村里备注": "姓名"}
        )
    assert "已对应表头" in e.value.message and e.value.field == "村里备注"
    with pytest.raises(DomainError) as e:
        import_mapping_save(
            on=ON, actor=admin, file_name=MESSY.name, data=_data(), answers={**ANSWER, "村里备注": "备注栏"}
        )
    assert "不是监测对象信息表的列" in e.value.message
    sig = mapping_question(on=ON, actor=admin, file_name=MESSY.name, data=_data())["signature"]
    assert not ImportMapping.objects.filter(signature=sig).exists()


def test_an_answered_mapping_imports_is_audited_and_is_reused_for_the_same_headers(personas):
    admin = personas["county_admin"]
    first = registry_import(on=ON, actor=admin, file_name=MESSY.name, data=_data(), income_year=2025)
    m = import_mapping_save(on=ON, actor=admin, file_name=MESSY.name, data=_data(), answers=ANSWER)
    assert m.version == 1 and m.columns["家庭编号"] == "household_no" and m.columns["村里备注"] == ""
    ev = AuditEvent.objects.filter(event_type="registry.import_mapping_save").latest("seq")
    assert ev.data["after"]["身份证件号码(18位)"] == "id_number" and ev.data["before"] == {}
    again = import_batch_remap(on=ON, actor=admin, batch_id=first.pk)
    first.refresh_from_db()
    assert first.details["remapped_batch"] == again.pk and first.upload_path == ""
    again = import_batch_run(on=ON, batch_id=again.pk, actor=admin)
    assert again.status == ImportStatus.IMPORTED, list(again.rejects.values_list("row", "column", "reason"))
    hh = Household.objects.get(household_no="410506205201990101")
    assert hh.village_id == "410506205201" and hh.persons.count() == 3
    assert Person.objects.get(id_number="410506198811021250").phone == "15838293061"
    not_stored = {x["column"]: x["reason"] for x in again.details["columns_not_stored"]}
    assert "不导入" in not_stored["村里备注"] and "序号" in not_stored
    assert again.details["mapping_version"] == 1
    # next month's file: same headers in another order, other values → no question
    rows = _rows()
    order = [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 11, 12]
    shuffled = [rows[0], rows[1]] + [[r[i] for i in order] for r in rows[2:]]
    for r in shuffled[3:]:
        r[order.index(11)] = "7800"
    nxt = registry_import(on=ON, actor=admin, file_name="十二月.csv", data=_csv(shuffled), income_year=2025)
    assert nxt.status == ImportStatus.IMPORTED, nxt.message


def test_a_new_header_in_a_known_layout_asks_only_about_it(personas):
    admin = personas["county_admin"]
    import_mapping_save(on=ON, actor=admin, file_name=MESSY.name, data=_data(), answers=ANSWER)
    rows = _rows()
    rows[2].append("帮扶人")
    for r in rows[3:]:
        r.append("张")
    q = mapping_question(on=ON, actor=admin, file_name="a.csv", data=_csv(rows))
    assert [u["header"] for u in q["unknown"]] == ["帮扶人"] and q["missing_required"] == []
    batch = registry_import(on=ON, actor=admin, file_name="a.csv", data=_csv(rows), income_year=2025)
    assert batch.status == ImportStatus.MAPPING and batch.details["mapping_question"]["unknown"] == ["帮扶人"]


def test_cli_asks_then_imports_with_map(personas, tmp_path):
    path = tmp_path / MESSY.name
    path.write_bytes(_data())
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as e:
        call_command("import_registry", str(path), "--as", "county_admin", "--now", stdout=out, stderr=err)
    text = out.getvalue()
    assert "家庭编号" in text and "建议：人编号" in text and "缺少必需列" in text and "--map" in str(e.value)
    assert "第4行" in text and "宋德海" in text  # the preview
    out = io.StringIO()
    call_command(
        "import_registry", str(path), "--as", "county_admin", "--now", "--income-year", "2025",
        *[x for k, v in ANSWER.items() for x in ("--map", f"{k}={v}")], stdout=out,
    )  # fmt: skip
    assert "已保存列对应 v1" in out.getvalue() and "状态：已导入" in out.getvalue()
    out = io.StringIO()
    call_command("import_mapping", str(path), "--as", "county_admin", stdout=out)
    assert "已保存的列对应 v1" in out.getvalue() and "无需确认" in out.getvalue()
