"""``fangpin setup``: everything an install needs before data arrives — all shipped divisions, the
default policy parameters and one demo user per role (idempotent: existing users are left alone)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.audit.record import audit_record
from fangpin.policy.params import load_defaults
from fangpin.regions.loader import load_regions
from fangpin.regions.models import Level, Region

E_NO_COUNTY = "setup_no_county"


@dataclass
class DemoLogin:
    username: str
    role: str
    region: str
    password: str | None  # None = the user existed already (password unchanged)


@dataclass
class SetupResult:
    regions: int
    parameters_created: int
    logins: list[DemoLogin] = field(default_factory=list)


def _places(county: str) -> dict[str, str]:
    """County, one township that has villages, and its first village: where the demo users sit."""
    village = (
        Region.objects.filter(level=Level.VILLAGE, code__startswith=county, is_residents_committee=False)
        .order_by("-parent_id", "code")
        .first()
    )
    if village is None:
        from fangpin.core.errors import DomainError

        raise DomainError(E_NO_COUNTY, f"区划中没有{county}的行政村")
    return {"county": county.ljust(12, "0"), "township": village.parent_id, "village": village.code}


DEMO_USERS = (
    ("county_admin", Role.COUNTY_ADMIN, "county", "县管理员"),
    ("county_reviewer", Role.COUNTY_REVIEWER, "county", "县审定人"),
    ("township_reviewer", Role.TOWNSHIP_REVIEWER, "township", "乡镇审核人"),
    ("village_cadre", Role.VILLAGE_CADRE, "village", "村干部"),
    ("helper", Role.HELPER, "village", "帮扶责任人"),
    ("dept_officer", Role.DEPT_OFFICER, "county", "医保数据专员"),
    ("dept_renshe", Role.DEPT_OFFICER, "county", "人社数据专员"),
    ("dept_canlian", Role.DEPT_OFFICER, "county", "残联数据专员"),
    ("dept_minzheng", Role.DEPT_OFFICER, "county", "民政数据专员"),
    ("dept_jiaoyu", Role.DEPT_OFFICER, "county", "教育数据专员"),
    ("leader", Role.LEADER, "county", "区领导"),
    ("auditor", Role.AUDITOR, "county", "安全审计员"),
)


# department of each demo department officer (screening: an officer uploads only its department's files)
DEMO_DEPARTMENTS = {"dept_officer": "医保", "dept_renshe": "人社", "dept_canlian": "残联", "dept_minzheng": "民政",
                    "dept_jiaoyu": "教育"}  # fmt: skip


def install_setup(*, county: str = "410506", reset_passwords: bool = False) -> SetupResult:
    """Loads regions and parameters, creates the demo users of ``county``. New (or reset) users get a
    random password that is returned once, to be printed; nothing stores it in clear."""
    regions = load_regions()
    created = load_defaults()
    places = _places(county)
    logins: list[DemoLogin] = []
    with transaction.atomic():
        # production (fangpin.settings.prod) gets no demo accounts: they would be refused at login anyway
        for username, role, level, display in DEMO_USERS if settings.FANGPIN_DEMO_USERS_ALLOWED else ():
            user = User.objects.filter(username=username).first()
            password = None
            if user is None or reset_passwords:
                password = secrets.token_urlsafe(9)
                user = user or User(username=username)
                user.role, user.region_id, user.display_name = role, places[level], display
                user.department = DEMO_DEPARTMENTS.get(username, "")
                user.is_staff = role == Role.COUNTY_ADMIN
                user.is_demo = user.otp_exempt = True  # refused in production; no OTP in dev only
                user.set_password(password)
                user.save()
                audit_record(
                    actor=None,
                    event_type="accounts.demo_user_set",
                    obj=user,
                    region_code=places[level],
                    data={"role": role, "reset": reset_passwords},
                )
            logins.append(DemoLogin(username, str(role.label), places[level], password))
    return SetupResult(regions=regions, parameters_created=created, logins=logins)
