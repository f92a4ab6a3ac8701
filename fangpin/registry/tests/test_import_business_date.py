"""The 监测对象信息 import acts on the business date it is given (``on``), never on the clock: the same file
checked on 2024-03-01 has a member born 2024-06-01 in the future (refused, nothing written); checked on
2025-01-01 it imports, and its income year defaults to the year before that date."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.registry.models import ImportStatus, Person
from fangpin.registry.services.imports import import_batch_create, registry_import

from .national_file import person_id, xlsx_bytes
from .test_import import HEADERS, good_rows

pytestmark = pytest.mark.django_db

BORN = dt.date(2024, 6, 1)
BABY = person_id("410506", BORN, 5, "F")


def _file() -> bytes:
    rows = good_rows()
    baby = list(rows[3])  # a granddaughter in household H2, born 2024-06-01
    col = {h: i for i, h in enumerate(HEADERS)}
    baby[col["序号"]], baby[col["姓名"]], baby[col["身份证"]] = 5, "赵小妹", BABY
    baby[col["与户主关系"]], baby[col["性别"]], baby[col["出生日期"]] = "之孙女", "女", "20240601"
    baby[col["家庭成员联系电话"]] = ""
    return xlsx_bytes(HEADERS, [*rows, baby])


def test_a_birth_date_after_the_validation_date_is_in_the_future(personas):
    admin = personas["county_admin"]
    early = registry_import(
        actor=admin, file_name="a.xlsx", data=_file(), on=dt.date(2024, 3, 1), income_year=2023
    )
    assert early.status == ImportStatus.FAILED and not Person.objects.exists()
    rejects = {(r.row, r.column, r.code): r.reason for r in early.rejects.all()}
    assert rejects == {  # the baby's row (title, info and header rows above the data), nothing else
        (8, "证件号码", "id_future"): "证件号码中的出生日期晚于校验日期",
        (8, "出生日期", "future_date"): "日期20240601晚于校验日期20240301",
    }

    later = registry_import(
        actor=admin, file_name="a.xlsx", data=_file(), on=dt.date(2025, 1, 1), income_year=2023
    )
    assert later.status == ImportStatus.IMPORTED, list(later.rejects.values_list("row", "column", "reason"))
    assert Person.objects.get(name="赵小妹").birth_date == BORN


def test_the_income_year_defaults_to_the_year_before_the_business_date(personas):
    admin = personas["county_admin"]
    b = import_batch_create(actor=admin, file_name="a.xlsx", data=_file(), on=dt.date(2024, 3, 1))
    assert b.income_year == 2023
    b = import_batch_create(actor=admin, file_name="a.xlsx", data=_file(), on=dt.date(2025, 1, 1))
    assert b.income_year == 2024
    with pytest.raises(TypeError):
        import_batch_create(actor=admin, file_name="a.xlsx", data=_file())  # no date: refused


def test_a_move_the_file_states_is_dated_on_the_imports_business_date(personas):
    """Imported on 2025-03-10, a household the file places in another village moved on 2025-03-10: the
    village's provenance is observed that day (the history and audit timestamps stay real time)."""
    from fangpin.registry.models import FactProvenance, Household

    from .test_import import _run
    from .test_import_move import _rows

    admin = personas["county_admin"]
    assert _run(admin, _rows("马家乡", "王家岗村"))[0].status == ImportStatus.IMPORTED
    on = dt.date(2025, 3, 10)
    moved = registry_import(
        actor=admin, file_name="a.xlsx", data=xlsx_bytes(HEADERS, _rows("龙泉镇", "龙泉村")),
        on=on, income_year=2023,
    )  # fmt: skip
    assert moved.status == ImportStatus.IMPORTED and moved.details["moves_planned"] == 1
    h2 = Household.objects.get(household_no="H2")
    fact = FactProvenance.objects.get(household=h2, entity="household", field="village")
    assert fact.observed_on == on
    ev = AuditEvent.objects.get(event_type="registry.household_move", household_id=h2.pk)
    assert ev.data["date"] == "2025-03-10"
