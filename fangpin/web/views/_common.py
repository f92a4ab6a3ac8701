"""Small helpers every area's views share: the business date at the interface edge, turning domain
errors into form messages, masking shortcuts and a per-request parameter cache."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from fangpin.core import clock
from fangpin.core.errors import DomainError


def today() -> dt.date:
    """The business date a view acts on: today (services never read the clock themselves)."""
    return clock.today()


def form_date(raw: str | None, on: dt.date, field: str = "on") -> dt.date:
    """A business date typed in a form (default ``on``, the edge's today; never after it)."""
    if not raw:
        return on
    try:
        d = dt.date.fromisoformat(raw)
    except ValueError as e:
        raise DomainError("date_invalid", "日期格式应为 年-月-日", field=field) from e
    if d > on:
        raise DomainError("date_future", "日期不能晚于今天", field=field)
    return d


def field_errors(err: DomainError) -> dict[str, str]:
    """A DomainError as ``{field: message}`` for the form (``__all__`` when it names no field)."""
    return {err.field or "form": err.message}


def flash_error(request: HttpRequest, err: DomainError) -> None:
    messages.error(request, err.message)


def input_refused(request: HttpRequest, err: DomainError) -> DomainError:
    """Records a form value the view itself refused (a date it could not read, a number out of range):
    ``web.input_refused`` with the message and field. Services record their own refusals."""
    from .errors import refused_record

    refused_record(
        request, status=400, reason=f"{err.field or ''}：{err.message}", event_type="web.input_refused"
    )
    return err


def query_string(request: HttpRequest, **changes: Any) -> str:
    """The current GET parameters with ``changes`` applied (``None`` removes one), url-encoded."""
    q = request.GET.copy()
    for k, v in changes.items():
        if v is None:
            q.pop(k, None)
        else:
            q[k] = v
    return q.urlencode()


def refused_page(request: HttpRequest, err: DomainError, *, status: int = 400):
    """A domain refusal (bad parameter, rule not met) as a Chinese page naming the reason."""
    from django.shortcuts import render

    from fangpin.core.errors import NotFound, PermissionDenied

    if isinstance(err, PermissionDenied):
        status = 403
    elif isinstance(err, NotFound):
        status = 404
    if status in (403, 404):
        from .errors import refused_record

        refused_record(request, status=status, reason=err.message)
    return render(request, "web/_refused.html", {"message": err.message}, status=status)
