"""Login, logout, failure and lockout become audit events (等保 8.1.4.3 a, AUTH-04). Connected in
``AccountsConfig.ready``. The typed username is kept masked (people type ID numbers into the username box)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from fangpin.audit.record import audit_record
from fangpin.core.masking import mask_text

SESSION_LOGIN_AT = "fangpin_login_at"
SESSION_SEEN_AT = "fangpin_seen_at"


def client_data(request) -> dict[str, str]:
    if request is None:
        return {}
    ip = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")
    return {"ip": ip or "", "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


@receiver(user_logged_in, dispatch_uid="fangpin_login_audit")
def _logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_SEEN_AT] = now
    audit_record(actor=user, event_type="accounts.login", obj=user, data=client_data(request))


@receiver(user_logged_out, dispatch_uid="fangpin_logout_audit")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(actor=user, event_type="accounts.logout", obj=user, data=client_data(request))


@receiver(user_login_failed, dispatch_uid="fangpin_login_failed_audit")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = mask_text(str(credentials.get("username", "")))[:150]
    # Refused because already locked: axes' backend marks the request before the password is checked
    # (a failure that *causes* the lock also carries the failure count; that one is a plain failure).
    locked = bool(getattr(request, "axes_locked_out", False)) and (
        getattr(request, "axes_failures_since_start", None) is None
    )
    audit_record(
        actor=None,
        event_type="accounts.login_refused_locked" if locked else "accounts.login_failed",
        object_type="accounts.user",
        object_id=username,
        result="refused",
        reason="账户已锁定" if locked else "用户名或密码错误",
        data={"username": username, **client_data(request)},
    )


def connect_lockout_audit() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="fangpin_lockout_audit")


def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    # axes also sends this for every attempt during a lockout; only the locking failure sets the count.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    name = mask_text(str(username or ""))[:150]
    audit_record(
        actor=None,
        event_type="accounts.account_locked",
        object_type="accounts.user",
        object_id=name,
        result="refused",
        reason=f"连续{request.axes_failures_since_start}次登录失败，账户锁定",
        data={"username": name, **client_data(request)},
    )
