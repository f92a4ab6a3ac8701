"""Who is calling: a bearer token (provincial systems, the phone client) or the browser session (with CSRF)."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from fangpin.core import clock

from .tokens import token_user


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        user = token_user(token, on=clock.today())
        if user is not None:
            request.user = user
        return user


class Session(SessionAuth):
    """The logged-in browser user; CSRF is enforced for unsafe methods (django-ninja's SessionAuth)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


AUTH = [BearerToken(), Session()]
