"""The REST API (django-ninja): the same services, selectors, role and region scope as the browser.

OpenAPI at /api/v1/openapi.json, interactive docs at /api/v1/docs (served locally by django-ninja)."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from . import errors
from .auth import AUTH
from .routers import (
    admin,
    appeals,
    audit,
    casework,
    changes,
    households,
    imports,
    monitoring,
    reference,
    reports,
    screening,
    trust,
    worklists,
)


class ChineseJSON(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=ChineseJSON(),
    title="fangpin 防贫 API",
    version="1",
    description=(
        "防止返贫动态监测和帮扶 — 与网页同一套业务规则、角色与区域范围。"
        "认证：`Authorization: Bearer <令牌>`（`fangpin api_token`签发）或已登录的浏览器会话（需 CSRF）。"
        "错误统一为 {code, message, field}；新建类接口支持 `Idempotency-Key` 请求头。"
    ),
    auth=AUTH,
    urls_namespace="api",
)
errors.install(api)
for r in (
    reference.router,
    households.router,
    monitoring.router,
    casework.router,
    trust.router,
    changes.router,
    appeals.router,
    worklists.router,
    imports.router,
    screening.router,
    reports.router,
    admin.router,
    audit.router,
):
    api.add_router("", r)
