"""Named users for every role and place. Every access test includes the cadre of another village."""

from __future__ import annotations

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role

from .factories import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, VILLAGE_A2, VILLAGE_B1

PERSONAS = {
    "county_admin": (Role.COUNTY_ADMIN, COUNTY),
    "county_reviewer": (Role.COUNTY_REVIEWER, COUNTY),
    "township_a": (Role.TOWNSHIP_REVIEWER, TOWNSHIP_A),
    "township_b": (Role.TOWNSHIP_REVIEWER, TOWNSHIP_B),
    "cadre_a1": (Role.VILLAGE_CADRE, VILLAGE_A1),
    "cadre_a2": (Role.VILLAGE_CADRE, VILLAGE_A2),
    "cadre_b1": (Role.VILLAGE_CADRE, VILLAGE_B1),
    "helper_a1": (Role.HELPER, VILLAGE_A1),
    "dept_yibao": (Role.DEPT_OFFICER, COUNTY),
    "leader": (Role.LEADER, COUNTY),
}


def persona(name: str) -> User:
    role, region = PERSONAS[name]
    user, _ = User.objects.get_or_create(
        username=name,
        defaults={
            "role": role,
            "region_id": region,
            "department": "医保" if role == Role.DEPT_OFFICER else "",
        },
    )
    return user
