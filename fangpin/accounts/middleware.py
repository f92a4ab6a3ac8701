"""Session limits and the second-factor gate, checked on the server for every request.

- idle timeout: no request for ``FANGPIN_SESSION_IDLE_MINUTES`` → logged out (等保 8.1.4.1 b, SESS-01); the
  last activity is recorded (and the session saved, its expiry renewed) when it moved by
  ``SEEN_EVERY_SECONDS`` or more, so most requests write nothing: the limit is kept to within that much,
  on the early side;
- absolute cap: ``FANGPIN_SESSION_MAX_HOURS`` after login → logged out, however active (sessions do not
  renew forever);
- OTP: a user whose role needs a second factor reaches only the OTP pages (and logout) until verified;
- ``Cache-Control: no-store`` on every page served to a signed-in user (personal data, SESS-04).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control

from fangpin.audit.record import audit_record

from .auth_events import SESSION_LOGIN_AT, SESSION_SEEN_AT
from .otp import otp_device, otp_required

SEEN_EVERY_SECONDS = 60


class SessionLimitsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            login_at = request.session.get(SESSION_LOGIN_AT, now)
            seen_at = request.session.get(SESSION_SEEN_AT, now)
            reason = ""
            if now - seen_at > settings.FANGPIN_SESSION_IDLE_MINUTES * 60:
                reason = "idle"
            elif now - login_at > settings.FANGPIN_SESSION_MAX_HOURS * 3600:
                reason = "max_age"
            if reason:
                audit_record(
                    actor=user, event_type="accounts.session_expired", obj=user, data={"why": reason}
                )
                logout(request)
                return redirect(f"{reverse(settings.LOGIN_URL)}?expired={reason}")
            if SESSION_LOGIN_AT not in request.session:
                request.session[SESSION_LOGIN_AT] = login_at
            if SESSION_SEEN_AT not in request.session or now - seen_at >= SEEN_EVERY_SECONDS:
                request.session[SESSION_SEEN_AT] = now  # modifies the session: saved, expiry renewed
        return self.get_response(request)


OTP_OPEN_PATHS = ("accounts:otp_setup", "accounts:otp_verify", "web:logout", "web:login")


class OtpRequiredMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and otp_required(user) and not user.is_verified():
            open_paths = {reverse(n) for n in OTP_OPEN_PATHS}
            if request.path not in open_paths and not request.path.startswith(
                "/" + settings.STATIC_URL.lstrip("/")
            ):
                target = "accounts:otp_verify" if otp_device(user) else "accounts:otp_setup"
                return redirect(reverse(target))
        return self.get_response(request)


class LoginThrottleMiddleware:
    """At most ``FANGPIN_LOGIN_IP_PER_MINUTE`` login attempts per client address and minute, whatever the
    usernames (password spraying, AUTH-05); the lockout above handles one username. Counted in the Django
    cache (per process with the default local-memory cache; shared when the cache is Redis)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in {reverse(settings.LOGIN_URL), "/admin/login/"}:
            from django.core.cache import cache
            from django.http import HttpResponse

            ip = request.META.get("REMOTE_ADDR", "")
            key = f"fangpin:login:{ip}:{int(timezone.now().timestamp() // 60)}"
            cache.add(key, 0, 120)
            n = cache.incr(key)
            if n > settings.FANGPIN_LOGIN_IP_PER_MINUTE:
                if n == settings.FANGPIN_LOGIN_IP_PER_MINUTE + 1:  # once per address and minute
                    audit_record(
                        actor=None, event_type="accounts.login_throttled", result="refused", data={"ip": ip}
                    )
                return HttpResponse(
                    "登录尝试过于频繁，请一分钟后再试。", status=429, content_type="text/plain; charset=utf-8"
                )
        return self.get_response(request)


class NoStoreMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
