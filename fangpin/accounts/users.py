"""User administration (the 系统管理 screen and CLI): a county admin creates users of its own region and
changes their role, region, department or active flag. Every change audited; nobody edits themselves out."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import QuerySet

from fangpin.accounts.roles import Cap, Role
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError, NotFound

from .models import User

E_REGION = "user_region_outside"
E_USERNAME = "user_username_taken"
E_SELF = "user_self_change"
E_ROLE = "user_role_unknown"


def _check(actor, *, role: str, region_code: str | None) -> None:
    require(actor, Cap.PARAMS_EDIT)
    if role not in Role.values:
        raise DomainError(E_ROLE, f"未知的角色“{role}”", field="role")
    scope = actor.scope_prefix or ""
    if not region_code or not region_code.startswith(scope):
        raise DomainError(E_REGION, f"管辖区域须在本辖区（{scope}）内", field="region")
    from fangpin.regions.models import Region

    if not Region.objects.filter(code=region_code).exists():
        raise DomainError(E_REGION, f"没有区划代码为“{region_code}”的区域", field="region")


def user_list(*, actor) -> QuerySet[User]:
    """Users whose region lies in the actor's region (a county admin sees its county's users)."""
    require(actor, Cap.PARAMS_EDIT)
    return User.objects.filter(region__code__startswith=actor.scope_prefix or "-").order_by(
        "role", "username"
    )


def user_create(
    *, actor, username: str, display_name: str, role: str, region_code: str, department: str = ""
) -> tuple[User, str]:
    """A new user with a random initial password (returned once, to hand over; stored only hashed)."""
    _check(actor, role=role, region_code=region_code)
    username = username.strip()
    if not username or User.objects.filter(username=username).exists():
        raise DomainError(E_USERNAME, f"用户名“{username}”已存在或为空", field="username")
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        u = User(
            username=username[:150],
            display_name=display_name.strip()[:50],
            role=role,
            region_id=region_code,
            department=department.strip()[:32],
        )
        u.set_password(password)
        u.save()
        audit_record(
            actor=actor,
            event_type="accounts.user_create",
            obj=u,
            region_code=region_code,
            data={"username": u.username, "role": role, "region": region_code, "department": u.department},
        )
    return u, password


def user_update(
    *, actor, user_id: int, role: str, region_code: str, department: str, is_active: bool
) -> User:
    _check(actor, role=role, region_code=region_code)
    with transaction.atomic():
        u = user_list(actor=actor).select_for_update().filter(pk=user_id).first()
        if u is None:
            raise NotFound("用户")
        if u.pk == actor.pk and (role != u.role or not is_active):
            raise DomainError(E_SELF, "不能修改自己的角色或停用自己", field="role")
        before = {"role": u.role, "region": u.region_id, "department": u.department, "is_active": u.is_active}
        u.role, u.region_id, u.department, u.is_active = role, region_code, department.strip()[:32], is_active
        u.save(update_fields=["role", "region", "department", "is_active"])
        after = {"role": u.role, "region": u.region_id, "department": u.department, "is_active": u.is_active}
        audit_record(
            actor=actor,
            event_type="accounts.user_update",
            obj=u,
            region_code=region_code,
            data={"before": before, "after": after},
        )
    return u
