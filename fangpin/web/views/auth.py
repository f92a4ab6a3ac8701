"""Login and logout. Kept deliberately small and separate: the security work (lockout, second factor)
replaces or wraps these two views without touching any other area."""

from __future__ import annotations

from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass
