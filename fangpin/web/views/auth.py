"""Login and logout. Kept deliberately small and separate: the security work (lockout, second factor)
replaces or wraps these two views without touching any other area."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from fangpin.accounts.views import LoginView  # lockout (django-axes), one refusal message, second factor

__all__ = ["LoginView", "LogoutView"]


class LogoutView(auth_views.LogoutView):
    pass
