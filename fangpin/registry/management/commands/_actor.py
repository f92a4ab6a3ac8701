"""The user a registry command acts as (--as USERNAME), with a Chinese error when unknown."""

from __future__ import annotations

from django.core.management.base import CommandError

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role


def command_actor(username: str | None):
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在或已停用")
        return user
    user = User.objects.filter(role=Role.COUNTY_ADMIN, is_active=True).order_by("id").first()
    if user is None:
        raise CommandError("没有县级管理员账号，请用 --as 指定用户")
    return user
