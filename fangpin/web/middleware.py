"""Per request: parameter look-ups and repeated reads (``core.memo``) cached; domain errors that escape a view become the Chinese 404/403
pages (and are audited there)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from fangpin.core.errors import NotFound, PermissionDenied
from fangpin.core.memo import request_memo
from fangpin.policy.params import param_cache

from .views import errors


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # parameter look-ups and repeated reads of the same rows (core.memo) are read once per request
        with param_cache(), request_memo():
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, NotFound):
            return errors.page_not_found(request, Http404(exception.message))
        if isinstance(exception, PermissionDenied):
            from django.core.exceptions import PermissionDenied as DjangoDenied

            return errors.permission_denied(request, DjangoDenied(exception.message))
        return None


# Form fields whose Chinese label the refusal names (others are named by their field name).
FIELD_LABELS = {
    "q": "搜索",
    "name": "名称",
    "reason": "理由",
    "note": "备注",
    "applicant": "申请人",
    "difficulties": "困难情况",
    "value": "参数值",
    "username": "用户名",
    "display_name": "姓名",
    "phone": "联系电话",
    "findings": "核查情况",
}


class InputCharacterMiddleware:
    """The character policy (core.text) for every browser request, before any view: a query-string or
    form value with a NUL, another control character (line breaks and tabs excepted), a bidi override or
    an invisible character gets a 400 Chinese page naming the field, is audited (``web.input_refused``)
    and reaches no service — a NUL would crash PostgreSQL and every export, a bidi override garbles what
    a reviewer reads. Uploaded file names are checked the same way. The API has its own 422 (api.schemas)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not request.path.startswith("/api/"):
            refused = self._first_problem(request)
            if refused is not None:
                return self._refuse(request, *refused)
        return self.get_response(request)

    @staticmethod
    def _first_problem(request: HttpRequest) -> tuple[str, str] | None:
        from fangpin.core.text import text_problem

        sources = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sources.append(request.POST)
        for source in sources:
            for key, values in source.lists():
                for v in [key, *values]:
                    problem = text_problem(v, multiline=True)
                    if problem:
                        return key, problem
        if request.method == "POST" and request.content_type == "multipart/form-data":
            for key, f in request.FILES.items():
                problem = text_problem(f.name or "")
                if problem:
                    return key, "文件名" + problem
        return None

    @staticmethod
    def _refuse(request: HttpRequest, key: str, problem: str):
        from django.shortcuts import render

        from fangpin.core.text import visible

        from .views.errors import refused_record

        label = FIELD_LABELS.get(key, visible(key)[:40])
        message = f"「{label}」{problem}"
        refused_record(request, status=400, reason=message, event_type="web.input_refused")
        return render(request, "web/_refused.html", {"message": message}, status=400)
