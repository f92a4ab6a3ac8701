"""Per request: parameter look-ups cached; domain errors that escape a view become the Chinese 404/403
pages (and are audited there)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from fangpin.core.errors import NotFound, PermissionDenied
from fangpin.policy.params import param_cache

from .views import errors


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        with param_cache():  # parameter look-ups are read once per request
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, NotFound):
            return errors.page_not_found(request, Http404(exception.message))
        if isinstance(exception, PermissionDenied):
            from django.core.exceptions import PermissionDenied as DjangoDenied

            return errors.permission_denied(request, DjangoDenied(exception.message))
        return None
