"""Second factor (TOTP, RFC 6238) for the roles that must have one (等保 8.1.4.1 d, AUTH-07).

Enrolment creates an unconfirmed device and shows its secret once; the first correct code confirms it.
A reset (by the county administrator or the CLI) deletes the user's devices, so the next login enrols
again. django-otp refuses a code used once already (replay) and throttles wrong codes."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError

E_OTP_BAD = "otp_bad_token"
DEVICE_NAME = "fangpin-totp"


def otp_required(user) -> bool:
    """Whether ``user`` must pass a second factor before reaching anything else."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.otp_exempt and settings.FANGPIN_OTP_EXEMPT_ALLOWED:
        return False
    return user.role in settings.FANGPIN_OTP_ROLES


def otp_device(user, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def otp_enrol_start(user) -> TOTPDevice:
    """The user's pending (unconfirmed) device, created if missing. Its ``config_url`` is the
    otpauth:// URI an authenticator app scans."""
    dev = otp_device(user, confirmed=False)
    if dev is None:
        dev = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return dev


def otp_enrol_confirm(user, token: str) -> TOTPDevice:
    """Confirms the pending device with a first code from the app."""
    dev = otp_device(user, confirmed=False)
    if dev is None or not dev.verify_token(token.strip()):
        audit_record(
            actor=user, event_type="accounts.otp_enrol", obj=user, result="refused", reason="动态口令错误"
        )
        raise DomainError(E_OTP_BAD, "动态口令错误或已过期，请重新输入", field="token")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        dev.confirmed = True
        dev.save(update_fields=["confirmed"])
        audit_record(actor=user, event_type="accounts.otp_enrol", obj=user)
    return dev


def otp_check(user, token: str) -> TOTPDevice:
    """The confirmed device if ``token`` is a valid, unused code; audits the failure otherwise."""
    dev = otp_device(user)
    if dev is None or not dev.verify_token(token.strip()):
        audit_record(actor=user, event_type="accounts.otp_failed", obj=user, result="refused")
        raise DomainError(E_OTP_BAD, "动态口令错误或已过期，请重新输入", field="token")
    audit_record(actor=user, event_type="accounts.otp_verified", obj=user)
    return dev


def otp_reset(*, actor, user) -> int:
    """Removes every device of ``user`` (lost phone); the next login enrols again. Returns how many."""
    from .roles import Cap
    from .scope import require

    require(actor, Cap.ACCOUNTS_ADMIN)
    with transaction.atomic():
        n, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_record(actor=actor, event_type="accounts.otp_reset", obj=user, data={"devices": n})
    return n


def otp_enrol_issue(*, actor, user) -> TOTPDevice:
    """CLI enrolment by an administrator: replaces the user's devices by a new confirmed one whose
    secret is shown once to be handed over (for users who cannot enrol in the browser)."""
    from .roles import Cap
    from .scope import require

    require(actor, Cap.ACCOUNTS_ADMIN)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        dev = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
        audit_record(actor=actor, event_type="accounts.otp_enrol", obj=user, data={"via": "cli"})
    return dev
