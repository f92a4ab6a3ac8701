"""The column-mapping question of （乡村建设）户信息 and （自定义）行政村信息: the same service as the 监测对象信息
import. A hand-saved file with a renamed header (家庭户编号 for 户编号, 行政村名 for 村) and a county's own
联系人 column stops with nothing written and the question asked (a proposal is shown, never applied); the
answer is saved for the file kind and header layout, audited, and the next file of that layout is read
with it. Fixtures: the national layouts of ``test_other_national_files`` (title, export-info row, header
on row 3), re-saved by hand."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fangpin.audit.models import AuditEvent
from fangpin.registry.io.read import read_head
from fangpin.registry.models import HouseholdLivingConditions, ImportStatus, VillageProfile
from fangpin.registry.models.imports import ImportMapping
from fangpin.registry.services.import_mapping import (
    import_batch_remap,
    import_mapping_save,
    mapping_question,
    saved_mappings,
)
from fangpin.registry.services.imports import import_batch_run
from fangpin.registry.services.kind_imports import kind_import

from .test_other_national_files import (  # noqa: F401, F811  (households: the fixture)
    LIVING_HEADERS,
    LIVING_ROWS,
    VILLAGE_HEADERS,
    VILLAGE_ROWS,
    gbk_csv,
    households,
    xlsx,
)

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 12, 1)

# 户信息 re-saved by hand: 户编号 renamed 家庭户编号, a 联系人 column added after 户主姓名
MESSY_LIVING_HEADERS = [
    "家庭户编号" if h == "户编号" else h for h in LIVING_HEADERS[:7]
] + ["联系人"] + LIVING_HEADERS[7:]  # fmt: skip
MESSY_LIVING_ROWS = [
    r[:7] + [c] + r[7:] for r, c in zip(LIVING_ROWS, ["王建国", "李秀英", "赵小军"], strict=True)
]
LIVING_ANSWER = {"家庭户编号": "户编号", "联系人": "不导入"}

# 行政村信息 re-saved by hand (GBK CSV, no title rows): 村 renamed 行政村名, a 联系人 column at the end
MESSY_VILLAGE_HEADERS = ["行政村名" if h == "村" else h for h in VILLAGE_HEADERS] + ["联系人"]
MESSY_VILLAGE_ROWS = [r + [c] for r, c in zip(VILLAGE_ROWS, ["刘支书", "王主任", "赵会计"], strict=True)]
VILLAGE_ANSWER = {"行政村名": "村", "联系人": "不导入"}


def _mine():
    """The answers saved for these two file kinds (conftest keeps 监测对象信息 answers of its own)."""
    return ImportMapping.objects.exclude(kind="registry")


def _living() -> bytes:
    return xlsx("（乡村建设）户信息", MESSY_LIVING_HEADERS, MESSY_LIVING_ROWS)


def _village() -> bytes:
    return gbk_csv(MESSY_VILLAGE_HEADERS, MESSY_VILLAGE_ROWS)


def test_unknown_living_headers_stop_the_import_with_the_question_then_the_answer_is_saved_and_reused(
    personas,
    households,  # noqa: F811
):
    admin = personas["county_admin"]
    name = "（乡村建设）户信息_另存.xlsx"
    first = kind_import(actor=admin, kind="living_conditions", file_name=name, data=_living(), on=ON)
    assert first.status == ImportStatus.MAPPING and HouseholdLivingConditions.objects.count() == 0
    q = first.details["mapping_question"]
    assert q["kind"] == "living_conditions" and q["missing_required"] == ["户编号"]
    assert q["unknown"] == ["家庭户编号", "联系人"] and "未写入任何数据" in first.message
    assert first.upload_path  # kept for the answer

    ask = mapping_question(actor=admin, file_name=name, data=_living(), on=ON, kind="living_conditions")
    # read as proposed, 户编号 would be there; the proposal is shown, not applied
    assert ask["needed"] and ask["title"] == "（乡村建设）户信息" and ask["missing_required"] == []
    by = {u["header"]: u for u in ask["unknown"]}
    assert by["家庭户编号"]["source"] == "proposal" and by["家庭户编号"]["key"] == "household_no"
    assert by["联系人"]["source"] == "none"
    assert ("household_no", "户编号") in ask["choices"] and ask["rows"][0]["row"] == 4
    cells = {h["header"]: c for h, c in zip(ask["headers"], ask["rows"][0]["cells"], strict=True)}
    assert cells["家庭户编号"]["value"] == "4105062052010001" and cells["是否通自来水"]["value"] == "是"
    assert cells["联系人"]["note"] == "未对应"
    assert _mine().count() == 0  # asking saves nothing; the proposal is not applied

    with pytest.raises(Exception, match="请为表头“联系人”选择"):
        import_mapping_save(actor=admin, file_name=name, data=_living(), answers={"家庭户编号": "户编号"},
                            on=ON, kind="living_conditions")  # fmt: skip
    with pytest.raises(Exception, match="不是（乡村建设）户信息表的列"):
        import_mapping_save(actor=admin, file_name=name, data=_living(), on=ON, kind="living_conditions",
                            answers={"家庭户编号": "户编号", "联系人": "家庭成员联系电话"})  # fmt: skip
    with pytest.raises(Exception, match="文件中没有必需的列：户编号"):
        import_mapping_save(actor=admin, file_name=name, data=_living(), on=ON, kind="living_conditions",
                            answers={"家庭户编号": "不导入", "联系人": "不导入"})  # fmt: skip
    m = import_mapping_save(
        actor=admin, file_name=name, data=_living(), answers=LIVING_ANSWER, on=ON, kind="living_conditions"
    )
    assert m.kind == "living_conditions" and m.columns == {"家庭户编号": "household_no", "联系人": ""}
    ev = AuditEvent.objects.filter(event_type="registry.import_mapping_save").latest("seq")
    assert ev.data["kind"] == "living_conditions" and ev.data["on"] == "2026-12-01"
    assert ev.data["before"] == {} and ev.data["after"] == m.columns

    again = import_batch_remap(actor=admin, batch_id=first.pk, on=ON)
    assert again.kind == "living_conditions"
    again = import_batch_run(batch_id=again.pk, actor=admin, on=ON)
    assert again.status == ImportStatus.IMPORTED, list(again.rejects.values_list("row", "column", "reason"))
    assert again.created == 3 and again.details["columns_answered_not_stored"] == ["联系人"]
    assert again.details["mapping_version"] == 1
    assert HouseholdLivingConditions.objects.get(household__household_no="4105062052010001").tap_water is True
    # the next file of the same layout is read with the saved answer, not asked again
    nxt = kind_import(actor=admin, kind="living_conditions", file_name="十二月.xlsx", data=_living(), on=ON)
    assert nxt.status == ImportStatus.IMPORTED and nxt.unchanged == 3
    # saved for this file kind only: the same headers of another kind are not answered by it
    head = read_head(_living(), name)
    assert saved_mappings(head, "living_conditions") and not saved_mappings(head, "registry")


def test_unknown_village_headers_ask_through_the_commands_and_the_answer_is_reused(personas, tmp_path):
    src = tmp_path / "（自定义）行政村信息（另存）.csv"
    src.write_bytes(_village())
    out = StringIO()
    with pytest.raises(CommandError, match="2个表头未识别（行政村名、联系人）.*--map"):
        call_command("import_registry", str(src), "--as", "county_admin", stdout=out)
    text = out.getvalue()
    assert "未识别的表头“行政村名” → 建议：村（请核对）" in text and "行政村名→村" in text
    assert VillageProfile.objects.count() == 0 and _mine().count() == 0

    out = StringIO()
    call_command("import_mapping", str(src), "--as", "county_admin", stdout=out)  # the question only
    assert "未识别的表头“联系人” → 无相近列名，请指定" in out.getvalue() and _mine().count() == 0
    out = StringIO()
    call_command("import_mapping", str(src), "--as", "county_admin", "--on", "2026-11-30",
                 *[a for k, v in VILLAGE_ANSWER.items() for a in ("--set", f"{k}={v}")], stdout=out)  # fmt: skip
    assert "已保存列对应 v1" in out.getvalue() and "均已识别，无需确认列对应" in out.getvalue()
    m = _mine().get()
    assert m.kind == "village_profile" and m.columns == {"行政村名": "village", "联系人": ""}
    ev = AuditEvent.objects.get(event_type="registry.import_mapping_save")
    assert ev.data["on"] == "2026-11-30"

    out = StringIO()
    call_command("import_registry", str(src), "--as", "county_admin", stdout=out)
    assert "新增3" in out.getvalue() and "按已保存的列对应不导入的列：联系人" in out.getvalue()
    assert VillageProfile.objects.count() == 3


def test_import_registry_map_answers_a_living_file_in_one_run(personas, households, tmp_path):  # noqa: F811
    src = tmp_path / "户信息（另存）.xlsx"  # no national name: the header tells the kind
    src.write_bytes(_living())
    out = StringIO()
    call_command("import_registry", str(src), "--as", "county_admin",
                 *[a for k, v in LIVING_ANSWER.items() for a in ("--map", f"{k}={v}")], stdout=out)  # fmt: skip
    assert "已保存列对应 v1" in out.getvalue() and "（乡村建设）户信息" in out.getvalue()
    assert HouseholdLivingConditions.objects.count() == 3
    assert _mine().get().kind == "living_conditions"
