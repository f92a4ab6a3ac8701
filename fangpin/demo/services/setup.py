"""``fangpin setup``: everything an install needs before data arrives — the national division tree to
county level with the townships and villages of the county (any of the 31 provinces), the
default policy parameters and one demo user per role (idempotent: existing users are left alone)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.audit.record import audit_record
from fangpin.policy.params import load_defaults
from fangpin.regions.loader import load_regions
from fangpin.regions.models import Level, Region, code_prefix

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
    calendar_created: int = 0
    calendar_years: list[int] = field(default_factory=list)


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
    ("dept_gongan", Role.DEPT_OFFICER, "county", "公安数据专员"),
    ("dept_zhujian", Role.DEPT_OFFICER, "county", "住建数据专员"),
    ("dept_yingji", Role.DEPT_OFFICER, "county", "应急数据专员"),
    ("dept_shuili", Role.DEPT_OFFICER, "county", "水利数据专员"),
    ("dept_ziranziyuan", Role.DEPT_OFFICER, "county", "自然资源数据专员"),
    ("dept_shichang", Role.DEPT_OFFICER, "county", "市场监管数据专员"),
    ("leader", Role.LEADER, "county", "县（区）领导"),
    ("auditor", Role.AUDITOR, "county", "安全审计员"),
)


# department of each demo department officer (screening: an officer uploads only its department's files)
# One officer per department of a configured source (fangpin.screening.sources.SOURCES; a test checks it).
DEMO_DEPARTMENTS = {"dept_officer": "医保", "dept_renshe": "人社", "dept_canlian": "残联", "dept_minzheng": "民政",
                    "dept_jiaoyu": "教育", "dept_gongan": "公安", "dept_zhujian": "住建", "dept_yingji": "应急",
                    "dept_shuili": "水利", "dept_ziranziyuan": "自然资源", "dept_shichang": "市场监管"}  # fmt: skip


def install_setup(*, county: str = "410506", reset_passwords: bool = False) -> SetupResult:
    """Loads regions (the national tree to county level, ``county`` down to village) and parameters, creates the demo users of ``county``. New (or reset) users get a
    random password that is returned once, to be printed; nothing stores it in clear."""
    county = code_prefix(county)
    if len(county) != 6:
        from fangpin.core.errors import DomainError

        raise DomainError(E_NO_COUNTY, f"“{county}”不是县级区划代码，请给出6位县级代码，如 350722（浦城县）")
    regions = load_regions(county_prefixes=[county])
    created = load_defaults()
    from fangpin.policy.calendar import calendar_load, calendar_years

    calendar_created = calendar_load()  # the shipped State Council holiday notices (idempotent)
    places = _places(county)
    logins: list[DemoLogin] = []
    with transaction.atomic():
        county_name = (
            Region.objects.filter(code=places["county"]).values_list("name", flat=True).first() or ""
        )
        # production (fangpin.settings.prod) gets no demo accounts: they would be refused at login anyway
        for username, role, level, display in DEMO_USERS if settings.FANGPIN_DEMO_USERS_ALLOWED else ():
            if display == "县（区）领导":  # 龙安区 → 区领导, 泗县 → 县领导
                display = "区领导" if county_name.endswith("区") else "县领导"
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
    return SetupResult(
        regions=regions,
        parameters_created=created,
        logins=logins,
        calendar_created=calendar_created,
        calendar_years=calendar_years(),
    )


DEMO_HELPER_HOUSEHOLDS = 12  # and at most half of the village


def assign_demo_helper(*, county: str, on: dt.date) -> int:
    """Gives the demo 帮扶责任人 (``helper``) up to 12 households (at most half) of their village to look after —
    its monitoring households first, then others — through the monitoring service, as the demo township reviewer would.
    A helper sees only the households assigned to them, so without this the demo helper sees nothing.
    Idempotent; returns how many households the helper has."""
    from fangpin.accounts.models import User
    from fangpin.monitoring.models import Assignment, AssignmentKind
    from fangpin.monitoring.selectors import monitoring_objects_on
    from fangpin.monitoring.services.assistance import assignment_set
    from fangpin.registry.models import Household

    helper = User.objects.filter(username="helper", region__code__startswith=county).first()
    township = User.objects.filter(username="township_reviewer").first()
    if helper is None or township is None:
        return 0
    village = Household.objects.filter(village_id=helper.region_id, status="active")
    # at most half the village, so the village keeps households the helper does not see
    limit = min(DEMO_HELPER_HOUSEHOLDS, max(1, village.count() // 2))
    mine = Assignment.objects.filter(user=helper, end_on__isnull=True)
    if mine.count() >= limit:
        return mine.count()
    monitored = set(
        monitoring_objects_on(on).filter(household__in=village).values_list("household_id", flat=True)
    )
    ordered = sorted(village.values_list("id", "household_no"), key=lambda r: (r[0] not in monitored, r[1]))
    for hid, _no in ordered[:limit]:
        hh = Household.objects.get(pk=hid)
        if not Assignment.objects.filter(
            household=hh, kind=AssignmentKind.HELPER, end_on__isnull=True
        ).exists():
            assignment_set(actor=township, household=hh, user=helper, kind=AssignmentKind.HELPER, on=on)
    return Assignment.objects.filter(user=helper, end_on__isnull=True).count()


def demo_tour(*, county: str) -> dict:
    """What ``demo_county`` prints after the build: counts read from the database as it is now (not the
    generator's plan), and where a first-time user should start — the village cadre's village, one of its
    households under monitoring with an open item, and one that needs a visit."""
    from fangpin.accounts.models import User
    from fangpin.monitoring.models import Case, Lead, MonitoringObject, Visit
    from fangpin.monitoring.models.choices import CaseStatus, LeadStatus, ObjectStatus
    from fangpin.registry.models import Household, Person

    hh = Household.objects.filter(village__code__startswith=county)
    counts = {
        "households": hh.count(),
        "persons": Person.objects.filter(household__in=hh, is_member=True).count(),
        "monitoring_active": MonitoringObject.objects.filter(
            household__in=hh, status=ObjectStatus.ACTIVE
        ).count(),
        "monitoring_eliminated": MonitoringObject.objects.filter(
            household__in=hh, status=ObjectStatus.ELIMINATED
        ).count(),
        "leads_open": Lead.objects.filter(household__in=hh, status=LeadStatus.OPEN).count(),
        "cases_open": Case.objects.filter(
            household__in=hh, status__in=[CaseStatus.OPEN, CaseStatus.PAUSED]
        ).count(),
        "visits": Visit.objects.filter(household__in=hh).count(),
    }
    cadre = User.objects.filter(username="village_cadre").select_related("region").first()
    example = None
    if cadre is not None:
        lead = (
            Lead.objects.filter(village_id=cadre.region_id, status=LeadStatus.OPEN)
            .select_related("household")
            .order_by("opened_on", "id")
            .first()
        )
        example = lead.household.household_no if lead else None
    if cadre is not None and example is None:
        mo = (
            MonitoringObject.objects.filter(household__village_id=cadre.region_id, status=ObjectStatus.ACTIVE)
            .select_related("household")
            .order_by("identified_on", "id")
            .first()
        )
        example = mo.household.household_no if mo else None
    return {
        "counts": counts,
        "cadre_village": cadre.region.name if cadre and cadre.region_id else "",
        "example_household": example,
    }
