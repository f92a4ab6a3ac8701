"""Export in the national format: masking and permission, scope, formula neutralisation, round trip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import NotFound, PermissionDenied
from fangpin.registry.io.export import registry_export
from fangpin.registry.models import (
    FactProvenance,
    Household,
    HouseholdFlags,
    ImportStatus,
    IncomeRecord,
    Person,
)
from fangpin.registry.services.imports import registry_import
from fangpin.testing import factories as f

ON = dt.date(2026, 12, 1)  # the business date the imports act on

pytestmark = pytest.mark.django_db


EXPORT_ON = dt.date(2026, 12, 1)  # the business date of the exports


def _registry():
    h1 = f.household(
        f.VILLAGE_A1,
        household_no="A1-001",
        phone="13811112222",
        house_grade="D",
        cultivated_land_mu=Decimal("3.50"),
        water_litres_per_day=Decimal("40.0"),
        exited_year=2019,
        in_relocation_site=True,
        house_appraised_on=dt.date(2023, 4, 1),
        water_quality_ok=False,
        has_sanitary_toilet=False,
    )
    f.person(h1, name="王建国", gender="M", birth=dt.date(1975, 1, 20), phone="13911112222")
    f.person(h1, name="李秀英", gender="F", birth=dt.date(1978, 3, 2), relation="配偶", health="长期慢性病")
    kid = f.person(
        h1,
        name="王小明",
        gender="M",
        birth=dt.date(2012, 6, 1),
        relation="之子",
        school_status="七年级",
        labour_skill="无劳动力",
    )
    f.person(
        h1,
        name="王伯",
        gender="M",
        birth=dt.date(1950, 2, 3),
        relation="之父",
        health="残疾",
        id_type="残疾人证",
        disability_category="4",
        disability_grade=2,
        labour_skill="丧失劳动力",
    )
    Person.objects.filter(name="王伯").update(
        disability_cert_no=Person.objects.get(name="王伯").id_number + "42"
    )
    f.income(
        h1,
        year=2023,
        wage=12000,
        production_business=-500,
        transfer_dibao=2400,
        transfer_pension=1200,
        production_expense=800,
        insurance_payout=100,
        compliant_out_of_pocket=3000,
    )
    h2 = f.household(f.VILLAGE_A2, household_no="A2-001", household_type="一般农户")
    f.person(h2, name='=HYPERLINK("http://x","点")', gender="F", birth=dt.date(1980, 1, 1))
    h3 = f.household(f.VILLAGE_B1, household_no="B1-001")
    f.person(h3, name="钱七", gender="M", birth=dt.date(1966, 6, 6), phone="13700001111")
    return h1, kid


def _sheet(path):
    wb = openpyxl.load_workbook(path)  # not read_only: cell data types are asserted
    return wb.active


def test_export_masks_by_default_and_is_audited(personas, tmp_path):
    _registry()
    res = registry_export(
        on=EXPORT_ON, actor=personas["county_admin"], out_path=tmp_path / "r.xlsx", income_year=2023
    )
    assert res.rows == 6 and res.households == 3 and res.masked
    ws = _sheet(res.path)
    assert ws["A1"].value == "（自定义）监测对象信息"
    header = [c.value for c in ws[3]]
    assert (
        header[:4] == ["县", "乡", "村", "户编号"] and "致贫/返贫风险5" in header and "识别监测时间" in header
    )
    col = {h: i for i, h in enumerate(header)}
    data = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    ids = [r[col["证件号码"]] for r in data]
    assert all("********" in i for i in ids)
    phones = [r[col["户联系电话"]] for r in data if r[col["户联系电话"]]]
    assert phones and all("****" in p for p in phones)
    head = next(r for r in data if r[col["姓名"]] == "王建国")
    assert head[col["出生日期"]] == "1975****" and head[col["性别"]] == "男"
    assert head[col["是否危房户"]] == "是" and head[col["是否参加大病保险"]] == "是"
    assert head[col["工资性收入"]] == "12000.00" and head[col["转移性收入"]] == "3600.00"
    # (12000 - 500 + 3600 - 800 + 100) / 4 members
    assert head[col["人均纯收入（元）"]] == "3600.00"
    ev = AuditEvent.objects.filter(event_type="registry.export").latest("seq")
    assert ev.data["rows"] == 6 and ev.data["masked"] is True and ev.data["sha256"] == res.sha256
    assert "证件号码" in ev.data["columns"]


def test_unmasked_needs_the_capability(personas, tmp_path):
    _registry()
    with pytest.raises(PermissionDenied):
        registry_export(
            on=EXPORT_ON, actor=personas["township_a"], out_path=tmp_path / "x.xlsx", unmasked=True
        )
    assert not AuditEvent.objects.filter(event_type="registry.export").exists()
    res = registry_export(
        on=EXPORT_ON, actor=personas["county_admin"], out_path=tmp_path / "y.xlsx", unmasked=True
    )
    ws = _sheet(res.path)
    header = [c.value for c in ws[3]]
    ids = [r[header.index("证件号码")].value for r in ws.iter_rows(min_row=4)]
    assert all("*" not in i for i in ids)
    assert all(r[header.index("证件号码")].data_type == "s" for r in ws.iter_rows(min_row=4))
    assert sorted(len(i) for i in ids) == [18, 18, 18, 18, 18, 20]  # 残疾人证 number is 20 characters
    assert AuditEvent.objects.filter(event_type="registry.export").latest("seq").data["masked"] is False


def test_export_follows_region_scope(personas, tmp_path):
    _registry()
    res = registry_export(on=EXPORT_ON, actor=personas["cadre_a1"], out_path=tmp_path / "a1.xlsx")
    ws = _sheet(res.path)
    header = [c.value for c in ws[3]]
    nos = {r[header.index("户编号")].value for r in ws.iter_rows(min_row=4)}
    assert nos == {"A1-001"}
    with pytest.raises(NotFound):
        registry_export(
            on=EXPORT_ON, actor=personas["cadre_a1"], out_path=tmp_path / "b.xlsx", region_code=f.VILLAGE_B1
        )
    res = registry_export(on=EXPORT_ON, actor=personas["township_a"], out_path=tmp_path / "t.csv")
    text = res.path.read_text(encoding="utf-8-sig")
    assert "A2-001" in text and "B1-001" not in text


def test_formula_cells_are_neutralised(personas, tmp_path):
    _registry()
    res = registry_export(on=EXPORT_ON, actor=personas["county_admin"], out_path=tmp_path / "f.xlsx")
    ws = _sheet(res.path)
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    evil = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert len(evil) == 1 and evil[0].data_type == "s" and evil[0].value.startswith("'=")
    csv = registry_export(on=EXPORT_ON, actor=personas["county_admin"], out_path=tmp_path / "f.csv").path
    assert "'=HYPERLINK" in csv.read_text(encoding="utf-8-sig")


FIELDS_SKIPPED = {
    "id",
    "integrity_mac",  # binds the row id, which the round trip changes
    "created_at",
    "updated_at",
    "updated_by",
    "version",
    "source_kind",
    "source_ref",
    "source_at",
    "household",
    # judged on export (是否解决安全饮用水, the two 三保障 summary flags), kept as stated facts on re-import
    "safe_drinking_water",
    "national_facts",
    "stated_per_capita",  # the computed 人均纯收入 is exported, re-imported as the stated figure
}


def _snapshot():
    def rows(model, key):
        out = {}
        for obj in model.objects.all():
            d = {
                fl.attname: getattr(obj, fl.attname)
                for fl in model._meta.concrete_fields
                if fl.attname not in FIELDS_SKIPPED and fl.name not in FIELDS_SKIPPED
            }
            d.pop("household_id", None)
            out[key(obj)] = d
        return out

    return (
        rows(Household, lambda h: h.household_no),
        rows(Person, lambda p: p.id_number),
        rows(IncomeRecord, lambda r: (r.household.household_no, r.period_start)),
        {p.id_number: p.household.household_no for p in Person.objects.select_related("household")},
    )


def test_round_trip_export_unmasked_then_import_into_an_empty_registry(personas, tmp_path):
    _registry()
    admin = personas["county_admin"]
    before = _snapshot()
    res = registry_export(
        on=EXPORT_ON, actor=admin, out_path=tmp_path / "all.xlsx", unmasked=True, income_year=2023
    )
    # An empty registry: raw deletes (no cascade collection over other parts' tables).
    for model in (HouseholdFlags, FactProvenance, IncomeRecord, Person, Household):
        model.objects.all()._raw_delete(using="default")
    batch = registry_import(
        on=ON, actor=admin, file_name="all.xlsx", data=res.path.read_bytes(), income_year=2023
    )
    assert batch.status == ImportStatus.IMPORTED, list(batch.rejects.values_list("row", "column", "reason"))
    assert batch.details["unknown_columns"] == []
    after = _snapshot()
    for b, a in zip(before, after, strict=True):
        assert a == b
    again = registry_import(
        on=ON, actor=admin, file_name="all.xlsx", data=res.path.read_bytes(), income_year=2023
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_imported_monitoring_objects_reach_monitoring_and_come_back_in_the_export(personas, tmp_path):
    from .national_file import xlsx_bytes
    from .test_import import HEADERS, good_rows

    admin = personas["county_admin"]
    batch = registry_import(
        on=ON, actor=admin, file_name="m.xlsx", data=xlsx_bytes(HEADERS, good_rows()), income_year=2023
    )
    assert batch.status == ImportStatus.IMPORTED
    assert batch.details["monitoring"] == {"households": 1, "handed_over": True}
    again = registry_import(
        on=ON, actor=admin, file_name="m.xlsx", data=xlsx_bytes(HEADERS, good_rows()), income_year=2023
    )
    assert again.status == ImportStatus.IMPORTED  # enrol_existing is idempotent per (household, 识别时间)
    res = registry_export(on=EXPORT_ON, actor=admin, out_path=tmp_path / "m.xlsx", kind="monitoring")
    ws = _sheet(res.path)
    header = [c.value for c in ws[3]]
    data = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert res.households == 1 and len(data) == 3
    row = dict(zip(header, data[0], strict=True))
    assert (row["监测对象类别"], row["识别监测时间"], row["致贫/返贫风险1"], row["风险是否已消除"]) == (
        "脱贫不稳定户",
        "202305",
        "因病",
        "否",
    )
    assert row["致贫/返贫风险2"] in ("", None)
