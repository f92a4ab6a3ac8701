from __future__ import annotations

import datetime as dt

import openpyxl
import polars as pl
import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.core.ids import make_id_number
from fangpin.screening.models import BatchIssue, DeptBatch
from fangpin.screening.protect import read_revealed
from fangpin.screening.selectors import batch_issues, batch_list
from fangpin.screening.services.uploads import E_NO_VALID_ROWS, E_PERIOD, batch_abspath, dept_batch_upload
from fangpin.screening.sources.parse import E_MAPPING_NEEDED

ID1 = make_id_number("410506", dt.date(1975, 3, 4), 1, "M")


UPLOAD_ON = dt.date(2026, 12, 1)  # the business date of the uploads


def _xlsx(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.mark.django_db
def test_excel_with_title_row_and_aliases_becomes_a_versioned_batch(tmp_path, officer):
    user = officer("医保")
    path = _xlsx(
        tmp_path / "yb.xlsx",
        [
            ["龙安区医保结算明细（2025年6月）"],
            ["参保人姓名", "身份证号码", "费用结算日期", "医疗类别", "个人自付金额（元）"],
            ["张三", ID1, "2025-06-03", "普通住院", "1234.5"],
            ["李四", "", "2025/06/04", "门诊", "80"],
            ["王五", ID1, "不是日期", "住院", "10"],
            ["赵六", 4.10506197503e17, "20250605", "住院治疗", "99"],
        ],
    )
    b = dept_batch_upload(actor=user, kind="medical", path=path, period="2025-06", on=UPLOAD_ON)
    assert (b.rows_total, b.rows_ok, b.rows_rejected, b.version, b.header_row) == (4, 3, 1, 1, 2)
    assert b.mapping["out_of_pocket"] == "个人自付金额（元）"
    err = BatchIssue.objects.get(batch=b, severity=BatchIssue.ERROR)
    assert (err.row, err.column) == (5, "结算日期") and "不是有效日期" in err.message
    codes = set(
        BatchIssue.objects.filter(batch=b, severity=BatchIssue.WARNING).values_list("code", flat=True)
    )
    assert codes == {"id_missing", "id_scientific"}
    df = read_revealed(batch_abspath(b)).sort("row_no")
    assert df["id_status"].to_list() == ["ok", "missing", "scientific"]
    assert df["visit_type"].to_list() == ["住院", "门诊", "住院"]
    assert df["id_number"][0] == ID1 and df["birth_date"][0] == dt.date(1975, 3, 4)  # from the ID
    assert AuditEvent.objects.filter(event_type="screening.batch_upload", object_id=str(b.pk)).exists()

    # same bytes again: same batch; different bytes: next version
    assert dept_batch_upload(actor=user, kind="medical", path=path, period="2025-06", on=UPLOAD_ON).pk == b.pk
    path2 = _xlsx(tmp_path / "yb2.xlsx", [["姓名", "证件号码", "结算日期", "就诊类型", "个人自付"],
                                          ["张三", ID1, "2025-06-03", "住院", "1"]])  # fmt: skip
    b2 = dept_batch_upload(actor=user, kind="medical", path=path2, period="2025-06", on=UPLOAD_ON)
    assert b2.version == 2 and DeptBatch.objects.filter(kind="medical").count() == 2


@pytest.mark.django_db
def test_csv_gbk_and_parquet_are_read(tmp_path, officer):
    p = tmp_path / "cl.csv"
    p.write_bytes(
        f"姓名,残疾人证号,残疾类别,残疾等级,发证日期\n张三,{ID1}42,肢体,二级,2025-06-01\n".encode("gb18030")
    )
    b = dept_batch_upload(actor=officer("残联"), kind="disability", path=p, period="2025-06", on=UPLOAD_ON)
    df = read_revealed(batch_abspath(b))
    assert df["id_number"][0] == ID1 and df["grade"][0] == 2 and df["category"][0] == "4"
    pq = tmp_path / "water.parquet"
    pl.DataFrame(
        {"姓名": ["张三"], "证件号码": [ID1], "断水开始日期": ["2025-06-02"], "停水天数": ["9"]}
    ).write_parquet(pq)
    b = dept_batch_upload(actor=officer("水利"), kind="water", path=pq, period="2025-06", on=UPLOAD_ON)
    assert read_revealed(batch_abspath(b))["days"][0] == 9


@pytest.mark.django_db
def test_refusals(tmp_path, officer, personas):
    ok = tmp_path / "a.csv"
    ok.write_text(
        f"姓名,证件号码,结算日期,就诊类型,个人自付\n张三,{ID1},2025-06-01,住院,1\n", encoding="utf-8"
    )
    with pytest.raises(PermissionDenied):  # 残联 officer may not upload 医保 data
        dept_batch_upload(actor=officer("残联"), kind="medical", path=ok, period="2025-06", on=UPLOAD_ON)
    with pytest.raises(PermissionDenied):  # a village cadre uploads nothing
        dept_batch_upload(actor=personas["cadre_a1"], kind="medical", path=ok, period="2025-06", on=UPLOAD_ON)
    with pytest.raises(DomainError) as e:
        dept_batch_upload(actor=officer("医保"), kind="medical", path=ok, period="2025-13", on=UPLOAD_ON)
    assert e.value.code == E_PERIOD
    missing = tmp_path / "b.csv"
    missing.write_text(f"姓名,证件号码,结算日期\n张三,{ID1},2025-06-01\n", encoding="utf-8")
    with pytest.raises(DomainError) as e:
        dept_batch_upload(actor=officer("医保"), kind="medical", path=missing, period="2025-06", on=UPLOAD_ON)
    assert e.value.code == E_MAPPING_NEEDED and "个人自付" in e.value.message
    bad = tmp_path / "c.csv"
    bad.write_text(
        f"姓名,证件号码,结算日期,就诊类型,个人自付\n张三,{ID1},2025-06-01,手术,1\n", encoding="utf-8"
    )
    with pytest.raises(DomainError) as e:
        dept_batch_upload(actor=officer("医保"), kind="medical", path=bad, period="2025-06", on=UPLOAD_ON)
    assert e.value.code == E_NO_VALID_ROWS and "不在允许范围内" in e.value.details["errors"][0]["message"]
    assert DeptBatch.objects.count() == 0


@pytest.mark.django_db
def test_officers_see_only_their_own_batches_and_never_the_registry(tmp_path, officer, personas):
    from fangpin.registry.selectors import person_list
    from fangpin.testing import factories as f

    f.person(f.household())
    a = tmp_path / "a.csv"
    a.write_text(
        f"姓名,证件号码,结算日期,就诊类型,个人自付\n张三,{ID1},2025-06-01,住院,1\n", encoding="utf-8"
    )
    w = tmp_path / "w.csv"
    w.write_text(f"姓名,证件号码,断水开始日期,断水天数\n张三,{ID1},2025-06-01,3\n", encoding="utf-8")
    yb = dept_batch_upload(actor=officer("医保"), kind="medical", path=a, period="2025-06", on=UPLOAD_ON)
    sl = dept_batch_upload(actor=officer("水利"), kind="water", path=w, period="2025-06", on=UPLOAD_ON)
    assert list(batch_list(actor=officer("医保"))) == [yb]
    assert list(batch_list(actor=officer("水利"))) == [sl]
    assert set(batch_list(actor=personas["county_admin"])) == {yb, sl}
    assert not batch_list(actor=personas["cadre_a1"]).exists()
    with pytest.raises(DomainError):
        batch_issues(actor=officer("水利"), batch_id=yb.pk)
    assert not person_list(actor=officer("医保")).exists()
