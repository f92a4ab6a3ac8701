from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from fangpin.accounts.models import User
from fangpin.core import clock


def user_or_error(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"用户“{username}”不存在")
    return user


def month_or_error(value: str | None, name: str = "--month") -> dt.date:
    if not value:
        return clock.today().replace(day=1)
    try:
        return dt.date.fromisoformat(value + "-01")
    except ValueError as exc:
        raise CommandError(f"{name} 格式应为 YYYY-MM：{value}") from exc


def county_of(user, county: str | None) -> str:
    if county:
        return county
    prefix = getattr(user, "scope_prefix", "") or ""
    if len(prefix) < 6:
        raise CommandError("请用 --county 指定县级区划代码（6位）")
    return prefix[:6]
