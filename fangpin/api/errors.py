"""One error body for every API failure: ``{"code", "message" (Chinese), "field"}``.

Refused reads (missing or out of scope: the same 404) and refused actions are audited here, once, so every
route gets it without remembering to."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from fangpin.accounts.throttle import Throttled
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError, NotFound, PermissionDenied

log = logging.getLogger(__name__)


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}

_FIELD_MESSAGES = {
    "missing": "必填",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "date_parsing": "须为日期（YYYY-MM-DD）",
    "date_type": "须为日期（YYYY-MM-DD）",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "string_type": "须为文本",
    "string_too_long": "过长",
    "string_too_short": "过短",
    "list_type": "须为列表",
    "dict_type": "须为对象",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "格式不对",
}


# ninja's own English refusals, in Chinese
_HTTP_MESSAGES = {
    "Cannot parse request body": "请求体不是有效的 JSON（或嵌套过深、含 NaN/Infinity 等非法值）",
}


def _user(request: HttpRequest):
    u = getattr(request, "auth", None)
    return u if getattr(u, "pk", None) else None


def _refused(request: HttpRequest, code: str, reason: str) -> None:
    audit_record(
        actor=_user(request),
        event_type="api.refused",
        result="refused",
        reason=reason,
        data={"method": request.method, "path": request.path[:300], "code": code},
    )


def body(code: str, message: str, field: str | None = None) -> dict:
    return {"code": code, "message": message, "field": field}


def install(api: NinjaAPI) -> None:
    @api.exception_handler(NotFound)
    def not_found(request, exc: NotFound):
        _refused(request, exc.code, exc.message)
        return api.create_response(request, body(exc.code, exc.message), status=404)

    @api.exception_handler(PermissionDenied)
    def denied(request, exc: PermissionDenied):
        _refused(request, exc.code, exc.message)
        return api.create_response(request, body(exc.code, exc.message), status=403)

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        _refused(request, exc.code, exc.message)
        return api.create_response(request, body(exc.code, exc.message, exc.field), status=429)

    @api.exception_handler(DomainError)
    def domain(request, exc: DomainError):
        status = 409 if exc.code.endswith(("_conflict", "_stale", "_closed", "_order")) else 400
        if exc.code == "invalid":  # a route's own check of one field: like the schema's (422)
            status = 422
        _refused(request, exc.code, exc.message)
        return api.create_response(request, body(exc.code, exc.message, exc.field), status=status)

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        first = exc.errors[0] if exc.errors else {}
        loc = [str(x) for x in first.get("loc", []) if x not in ("body", "query", "path", "payload")]
        if len(loc) > 1 and loc[0] in ("form", "file"):  # multipart: ("file", "file"), ("form", "kind")
            loc = loc[1:]
        field = ".".join(loc) or None
        if first.get("type") == "value_error":  # our own validators: their Chinese reason
            what = "：" + str(first.get("msg", "")).removeprefix("Value error, ")
        else:
            what = _FIELD_MESSAGES.get(first.get("type", ""), "格式不对")
        msg = f"参数“{field}”{what}" if field else f"请求{what}"
        _refused(request, "invalid", msg)
        return api.create_response(request, body("invalid", msg, field), status=422)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(
            request, body("unauthenticated", "未登录或令牌无效、已过期、已吊销"), status=401
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        msg = _HTTP_MESSAGES.get(str(exc), f"请求无法处理（{str(exc)[:200]}）")
        _refused(request, "http_error", msg)
        return api.create_response(request, body("http_error", msg), status=exc.status_code)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc: RequestDataTooBig):
        mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
        msg = f"请求体超过{mb:.1f}MB上限"
        _refused(request, "too_large", msg)
        return api.create_response(request, body("too_large", msg), status=413)

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc: SuspiciousOperation):
        msg = "请求格式异常（字段过多或文件过多），已拒绝"
        _refused(request, "bad_request", msg)
        return api.create_response(request, body("bad_request", msg), status=400)

    @api.exception_handler(Exception)
    def crashed(request, exc: Exception):
        log.exception("API error on %s %s", request.method, request.path)
        return api.create_response(
            request, body("server_error", "服务器内部错误，已记录，请稍后再试"), status=500
        )
