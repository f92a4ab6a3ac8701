"""One place to ask for "now" and "today", so tests and batch runs can pin the date."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator

from django.utils import timezone

# A batch run that replays a scripted day (``fangpin monitoring_month``) sees that day as today.
_pinned_today: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("fangpin_today", default=None)


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return _pinned_today.get() or timezone.localdate()


@contextlib.contextmanager
def pinned_today(day: dt.date) -> Iterator[dt.date]:
    """Within the block ``today()`` is ``day`` (services that default their business date to today,
    e.g. a screening run pushing leads, then date them on the scripted day). ``now()`` is unchanged:
    system timestamps (uploaded_at, audit) stay real."""
    token = _pinned_today.set(day)
    try:
        yield day
    finally:
        _pinned_today.reset(token)


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def add_months(d: dt.date, months: int) -> dt.date:
    """Same day-of-month `months` later (clamped to the month's last day)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    import calendar

    day = min(d.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from start to end (end-of-month aware, never negative)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def yyyymm(d: dt.date | None) -> str:
    return d.strftime("%Y%m") if d else ""


# The working-day calendar (public holidays and the weekend days worked instead, 调休) is data kept by the
# policy part (parameter ``calendar.days`` per year); it registers a provider here at start-up so this
# module stays free of domain imports. Without one (or for a year without data): Monday to Friday.
CalendarProvider = Callable[[int], tuple[frozenset[dt.date], frozenset[dt.date]]]
_calendar: CalendarProvider | None = None


def calendar_register(provider: CalendarProvider | None) -> None:
    global _calendar
    _calendar = provider


def is_working_day(d: dt.date) -> bool:
    if _calendar is not None:
        holidays, workdays = _calendar(d.year)
        if d in workdays:
            return True
        if d in holidays:
            return False
    return d.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """``days`` working days after ``start``: Monday–Friday, minus public holidays, plus the weekend days
    worked instead (from the registered calendar)."""
    d = start
    added = 0
    while added < days:
        d += dt.timedelta(days=1)
        if is_working_day(d):
            added += 1
    return d
