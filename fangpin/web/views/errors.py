"""Chinese error pages (400/403/404/500 and the CSRF failure page). No English framework page or debug
page reaches a user; a refused access is recorded in the audit log."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template import loader

from fangpin.audit.record import audit_record

log = logging.getLogger(__name__)


def _render(request: HttpRequest, template: str, status: int, message: str = "") -> HttpResponse:
    try:
        body = loader.render_to_string(template, {"message": message, "status": status}, request=request)
    except Exception:  # the error page itself must never fail (e.g. database down during a 500)
        log.exception("error page %s failed to render", template)
        body = loader.render_to_string("web/errors/plain.html", {"status": status})
    return HttpResponse(body, status=status)


def refused_record(
    request: HttpRequest, *, status: int, reason: str, event_type: str = "web.access_refused"
) -> None:
    """Audit a refused access by a logged-in user (URL guessing, out-of-region objects, missing rights)
    or refused input (``web.input_refused``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    try:
        audit_record(
            actor=user,
            event_type=event_type,
            object_type="web.path",
            object_id=request.path[:64],
            region_code=getattr(user, "region_id", "") or "",
            data={
                "path": _visible(request.get_full_path())[:500],
                "method": request.method,
                "status": status,
            },
            result="refused",
            reason=reason[:500],
        )
    except Exception:  # auditing a refusal must not turn a 404 into a 500
        log.exception("could not audit refused access")


def _visible(text: str) -> str:
    from fangpin.core.text import visible

    return visible(text)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _render(request, "web/errors/400.html", 400)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    msg = str(exception) if exception and str(exception) else ""
    refused_record(request, status=403, reason=msg or "permission_denied")
    return _render(request, "web/errors/403.html", 403, msg)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    msg = ""
    if exception is not None and exception.args and isinstance(exception.args[0], str):
        msg = exception.args[0]
    if msg:  # raised by a view for a missing or out-of-region object (not a mistyped address)
        refused_record(request, status=404, reason=msg)
    return _render(request, "web/errors/404.html", 404, msg)


def server_error(request: HttpRequest) -> HttpResponse:
    return _render(request, "web/errors/500.html", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _render(request, "web/errors/csrf.html", 403)
