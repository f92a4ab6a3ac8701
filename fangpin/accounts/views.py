"""Login (one message for every refusal, AUTH-05) and the second-factor pages (enrol, verify)."""

from __future__ import annotations

import base64

import segno
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from fangpin.core.errors import DomainError

from .otp import otp_check, otp_device, otp_enrol_confirm, otp_enrol_start

LOGIN_REFUSED = "用户名或密码错误，或账户已锁定。"


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    redirect_authenticated_user = True
    extra_context = {"refused_message": LOGIN_REFUSED}


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """django-axes' answer to a locked account: the same login page and status as a wrong password,
    so a guesser cannot tell a locked account from a wrong password (the audit log can)."""
    if original_response is not None:
        return original_response
    return render(request, "web/auth/login.html", {"refused_message": LOGIN_REFUSED, "refused": True})


def _next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure()):
        return nxt
    return "/"


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """First login of a user whose role needs a second factor: scan, type the first code."""
    if otp_device(request.user) is not None:
        return redirect("accounts:otp_verify")
    dev = otp_enrol_start(request.user)
    error = ""
    if request.method == "POST":
        try:
            dev = otp_enrol_confirm(request.user, request.POST.get("token", ""))
        except DomainError as e:
            error = e.message
        else:
            otp_login(request, dev)
            request.session.cycle_key()
            return redirect(_next(request))
    qr = segno.make(dev.config_url, error="m").svg_inline(scale=4)
    secret = base64.b32encode(dev.bin_key).decode()
    return render(request, "accounts/otp_setup.html", {"qr": qr, "secret": secret, "error": error})


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    if otp_device(request.user) is None:
        return redirect("accounts:otp_setup")
    error = ""
    if request.method == "POST":
        try:
            dev = otp_check(request.user, request.POST.get("token", ""))
        except DomainError as e:
            error = e.message
        else:
            otp_login(request, dev)
            request.session.cycle_key()  # a new session id once the second factor is in (SESS-02)
            return redirect(_next(request))
    return render(request, "accounts/otp_verify.html", {"error": error, "next": _next(request)})
