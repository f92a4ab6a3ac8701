"""Every hostile file through every upload entry point: a Chinese message naming the file (and the cell
where there is one), no traceback, nothing written, a record of the rejection, within 10 s and 512 MB."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError
from fangpin.core.ids import make_id_number
from fangpin.registry.models import Household, ImportStatus, Person
from fangpin.registry.services.imports import registry_import
from fangpin.screening.models import DeptBatch
from fangpin.screening.services.uploads import dept_batch_upload

from . import corpus

ON = dt.date(2026, 12, 1)  # the business date the imports act on

UPLOAD_ON = dt.date(2026, 12, 1)  # the business date of the uploads

CASES = {
    "too_large.xlsx": (corpus.too_large, "超过50MB上限"),
    "ratio_bomb.xlsx": (corpus.ratio_bomb, "压缩比"),
    "declared_2gb.xlsx": (corpus.declared_2gb, "疑似压缩炸弹"),
    "many_entries.xlsx": (corpus.many_entries, "超过上限1000个"),
    "macro.xlsm": (corpus.macro_xlsm, "宏"),
    "macro_type.xlsx": (corpus.macro_content_type_only, "宏"),
    "embedded.xlsx": (corpus.embedded_ole, "嵌入对象"),
    "nested.xlsx": (corpus.nested_zip, "内含压缩包"),
    "traversal.xlsx": (corpus.path_traversal, "异常路径"),
    "formulas.xlsx": (corpus.formula_cells, "第3行第E列（E3）"),
    "legacy.xls": (corpus.legacy_ole, "旧版Excel"),
    "rows.csv": (corpus.too_many_rows_csv, "超过300000行上限"),
    "broken.xlsx": (corpus.not_a_zip, "损坏"),
}
LIMIT_S = 10
LIMIT_BYTES = 512 * 1024 * 1024


def _timed(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        return fn(), None, time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
    except DomainError as e:
        return None, e, time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", CASES)
def test_registry_import_refuses(personas, name):
    build, expected = CASES[name]
    data = build()
    before = (Household.objects.count(), Person.objects.count())
    batch, err, seconds, peak = _timed(
        lambda: registry_import(on=ON, actor=personas["county_admin"], file_name=name, data=data)
    )
    assert err is None, err  # bad data never raises: the batch records the refusal
    assert batch.status == ImportStatus.FAILED
    reject = batch.rejects.get()
    assert name in reject.reason and expected in reject.reason, reject.reason
    assert "Traceback" not in reject.reason
    assert (Household.objects.count(), Person.objects.count()) == before
    ev = AuditEvent.objects.get(event_type="upload.refused")
    assert (
        ev.data["file_name"] == name and ev.data["entry"] == "registry.import" and ev.reason == reject.reason
    )
    assert seconds < LIMIT_S and peak < LIMIT_BYTES


@pytest.mark.parametrize("name", CASES)
def test_department_upload_refuses(personas, tmp_path, name):
    build, expected = CASES[name]
    path = tmp_path / name
    path.write_bytes(build())
    before = DeptBatch.objects.count()
    _, err, seconds, peak = _timed(
        lambda: dept_batch_upload(
            actor=personas["dept_yibao"], kind="medical", path=path, period="2025-06", on=UPLOAD_ON
        )
    )
    assert isinstance(err, DomainError)
    assert name in err.message and expected in err.message, err.message
    assert DeptBatch.objects.count() == before
    ev = AuditEvent.objects.get(event_type="upload.refused")
    assert ev.actor == personas["dept_yibao"] and ev.data["entry"] == "screening.upload"
    assert seconds < LIMIT_S and peak < LIMIT_BYTES


def test_a_clean_department_file_still_passes(personas, tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(
        corpus.plain_xlsx(
            [
                corpus.HEADER,
                ["张三", make_id_number("410506", dt.date(1975, 3, 4), 1, "M"), "2025-06-03", "住院", "10"],
            ]
        )
    )
    b = dept_batch_upload(
        actor=personas["dept_yibao"], kind="medical", path=path, period="2025-06", on=UPLOAD_ON
    )
    assert b.rows_ok == 1 and not AuditEvent.objects.filter(event_type="upload.refused").exists()


def test_the_guard_stays_under_512_mb_on_the_bomb(tmp_path):
    """Peak RSS of a fresh process inspecting the bomb (the parent's memory would hide it)."""
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(corpus.ratio_bomb(400))
    code = (
        "import sys\nfrom django.conf import settings\nsettings.configure()\n"
        "from fangpin.core.uploads import upload_inspect\nfrom fangpin.core.errors import DomainError\n"
        "data=open(sys.argv[1],'rb').read()\n"
        "try:\n upload_inspect(data,'bomb.xlsx');print('ACCEPTED')\n"
        "except DomainError as e:\n print(e.code)\n"
        # VmHWM: peak RSS of this program (ru_maxrss would include the forked parent's pages)
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    code_out, rss_kb = r.stdout.split()
    assert code_out == "upload_zip_bomb" and int(rss_kb) * 1024 < LIMIT_BYTES
    assert time.perf_counter() - t0 < LIMIT_S


NATIONAL = [
    "序号",
    "县",
    "乡",
    "村",
    "户编号",
    "人编号",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "出生日期",
    "户类型",
]


def _names_file(bad: str, fmt: str) -> bytes:
    id1 = make_id_number("410506", dt.date(1975, 1, 20), 1, "M")
    id2 = make_id_number("410506", dt.date(1978, 3, 2), 2, "F")
    rows = [
        NATIONAL,
        [1, "龙安区", "马家乡", "王家岗村", "H1", "H1-1", bad, id1, "户主", "男", "19750120", "脱贫户"],
        [2, "龙安区", "马家乡", "王家岗村", "H1", "H1-2", "李秀英", id2, "配偶", "女", "19780302", "脱贫户"],
    ]
    if fmt == "xlsx":  # Excel stores control characters as _xHHHH_ escapes, which readers decode
        return corpus.plain_xlsx(rows)
    return "".join(",".join(map(str, r)) + "\r\n" for r in rows).encode("utf-8-sig")


@pytest.mark.parametrize(
    "bad,fmt,what",
    [("王_x0000_建国", "xlsx", "空字符(NUL)"), ("王_x000B_建国", "xlsx", "垂直制表符"),
     ("王\x0b建国", "csv", "垂直制表符"), ("王建\u202e国", "csv", "文字方向控制符 U+202E"),
     ("王\u200b建国", "csv", "不可见字符 U+200B"), ("王建\u202e国", "xlsx", "文字方向控制符 U+202E")],
)  # fmt: skip
def test_control_characters_in_a_name_are_refused_per_row(personas, bad, fmt, what):
    batch = registry_import(
        on=ON, actor=personas["county_admin"], file_name=f"names.{fmt}", data=_names_file(bad, fmt)
    )
    assert batch.status == ImportStatus.FAILED and Household.objects.count() == 0
    rej = batch.rejects.get()
    assert (rej.row, rej.column) == (2, "姓名") and what in rej.reason
    assert rej.value.startswith("王") and "<U+" in rej.value  # stored visibly (PostgreSQL refuses NUL)


def test_control_characters_refused_by_the_edit_service(personas):
    from fangpin.registry.services.changes import coerce

    with pytest.raises(DomainError) as e:
        coerce("person", "name", "王\u202e建国")
    assert e.value.field == "name" and "文字方向控制符" in e.value.message


def test_row_cap_boundary():
    from fangpin.core.uploads import upload_inspect

    ok = upload_inspect(corpus.too_many_rows_csv(300_000), "ok.csv")  # header + 300,000 rows: accepted
    assert ok.rows == 300_001
    with pytest.raises(DomainError):
        upload_inspect(corpus.too_many_rows_csv(300_020), "big.csv")


def test_namespace_prefixed_formulas_are_found():
    from fangpin.core.uploads import upload_inspect

    with pytest.raises(DomainError) as e:
        upload_inspect(corpus.prefixed_formula_sheet(), "sdk.xlsx")
    assert "第2行第B列（B2）" in e.value.message


def test_rare_characters_and_ordinary_names_pass_the_character_policy():
    from fangpin.core.text import text_problem

    for name in ("王建国", "欧阳娜娜", "阿依古丽·买买提", "\ue3c1明", "𠀀𪚥", "李 四"):
        assert text_problem(name) is None, name
    assert text_problem("第一行\n第二行", multiline=True) is None and text_problem("第一行\n第二行")


def test_rows_are_counted_exactly_across_chunk_boundaries(monkeypatch):
    import fangpin.core.uploads as up

    data = corpus.plain_xlsx(
        [corpus.HEADER] + [["张三", "x", "2025-06-03", "住院", str(i)] for i in range(49)]
    )
    for size in (7, 64, 1000):
        monkeypatch.setattr(up, "CHUNK", size)
        assert up.upload_inspect(data, "rows.xlsx").rows == 50, size
