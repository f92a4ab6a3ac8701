"""The working-day calendar as data: parameter ``calendar.days`` (national, one value per year)
``{"holidays": ["2025-10-01", …], "workdays": ["2025-09-28", …]}`` from the State Council's annual notice
(国务院办公厅关于部分节假日安排的通知). ``core.clock.add_working_days`` reads it through the provider this
module registers (policy's AppConfig.ready). A change is a new parameter version (audited, with the notice's
document number) like every other parameter; ``fangpin calendar_load`` installs the shipped years."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from django.db import DatabaseError

from fangpin.accounts.actors import is_system, system_actor
from fangpin.core.errors import DomainError

from .models import Parameter

KEY = "calendar.days"
DATA_FILE = Path(__file__).resolve().parent / "data" / "calendar_cn.json"
TTL_SECONDS = 60.0
E_CALENDAR = "calendar_invalid"

_cache: dict[int, tuple[float, frozenset[dt.date], frozenset[dt.date]]] = {}


def calendar_clear() -> None:
    _cache.clear()


def _dates(values: list[str], what: str, year: int) -> frozenset[dt.date]:
    out = set()
    for v in values:
        try:
            d = dt.date.fromisoformat(str(v))
        except ValueError:
            raise DomainError(E_CALENDAR, f"{what}“{v}”不是有效日期（YYYY-MM-DD）", field="value") from None
        if d.year != year:
            raise DomainError(E_CALENDAR, f"{what}“{v}”不在{year}年", field="value")
        out.add(d)
    return frozenset(out)


def calendar_validate(year: int, value: dict[str, Any]) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    holidays = _dates(value.get("holidays", []), "节假日", year)
    workdays = _dates(value.get("workdays", []), "调休上班日", year)
    both = holidays & workdays
    if both:
        raise DomainError(E_CALENDAR, f"{min(both)}不能既是节假日又是上班日", field="value")
    return holidays, workdays


def year_days(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(holidays, workdays) of ``year``; empty when no calendar is recorded for it."""
    hit = _cache.get(year)
    if hit and time.monotonic() - hit[0] < TTL_SECONDS:
        return hit[1], hit[2]
    try:
        p = (
            Parameter.objects.filter(key=KEY, region_code="", year=year, is_active=True)
            .order_by("-version")
            .values_list("value", flat=True)
            .first()
        )
    except DatabaseError:  # no table yet (migrations) or no database: plain Monday–Friday
        return frozenset(), frozenset()
    days = calendar_validate(year, p) if p else (frozenset(), frozenset())
    _cache[year] = (time.monotonic(), *days)
    return days


def calendar_set(
    *, actor, year: int, holidays: list[str], workdays: list[str], doc_no: str, basis: str = ""
) -> Parameter:
    """Records one year's calendar as a new version of ``calendar.days`` (validated, audited)."""
    from .params import parameter_set

    value = {"holidays": sorted(set(holidays)), "workdays": sorted(set(workdays))}
    calendar_validate(year, value)
    if not doc_no.strip():
        raise DomainError(E_CALENDAR, "请填写节假日安排通知的文件号", field="doc_no")
    if not is_system(actor):
        from fangpin.accounts.roles import Cap
        from fangpin.accounts.scope import require

        require(actor, Cap.PARAMS_EDIT)
    p = parameter_set(
        actor=actor,
        key=KEY,
        value=value,
        region_code="",
        year=year,
        basis=basis or f"国务院办公厅关于{year}年部分节假日安排的通知",
        doc_no=doc_no.strip(),
    )
    calendar_clear()
    return p


def calendar_load(path: Path = DATA_FILE) -> int:
    """Installs the shipped years that are not recorded yet. Idempotent."""
    created = 0
    for entry in json.loads(path.read_text(encoding="utf-8"))["years"]:
        if not Parameter.objects.filter(key=KEY, region_code="", year=entry["year"]).exists():
            calendar_set(
                actor=system_actor("calendar_load"),
                year=entry["year"],
                holidays=entry["holidays"],
                workdays=entry["workdays"],
                doc_no=entry["doc_no"],
                basis=entry.get("basis", ""),
            )
            created += 1
    return created


def calendar_years() -> list[int]:
    """The years that have a working-day calendar recorded."""
    return sorted(
        set(Parameter.objects.filter(key=KEY, region_code="", is_active=True).values_list("year", flat=True))
    )


def calendar_missing(*dates: dt.date | None) -> list[int]:
    """The years among ``dates`` with no calendar recorded: their working days are counted Monday–Friday
    only (no holidays, no make-up days), which the screens must say."""
    years = sorted({d.year for d in dates if d})
    return [y for y in years if year_days(y) == (frozenset(), frozenset())]
