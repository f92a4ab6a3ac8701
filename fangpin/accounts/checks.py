"""Deployment checks (``manage.py check --deploy``): no demo accounts and no superuser in production
(AUTH-03 fangpin.E001, ADM-01 fangpin.E002)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def production_accounts(app_configs=None, **kwargs) -> list[Error]:
    if settings.FANGPIN_DEMO_USERS_ALLOWED:
        return []
    from .models import User

    try:
        demo = list(User.objects.filter(is_demo=True, is_active=True).values_list("username", flat=True)[:20])
        supers = list(
            User.objects.filter(is_superuser=True, is_active=True).values_list("username", flat=True)[:20]
        )
    except DatabaseError:  # no database yet (first deployment): nothing to report
        return []
    errors = []
    if demo:
        errors.append(
            Error(
                f"生产环境存在启用的演示账号：{', '.join(demo)}",
                hint="停用或删除演示账号（fangpin setup 创建），再上线。",
                id="fangpin.E001",
            )
        )
    if supers:
        errors.append(
            Error(
                f"生产环境存在启用的超级用户：{', '.join(supers)}",
                hint="三权分立：系统、安全、审计管理员各用普通账号，取消 is_superuser。",
                id="fangpin.E002",
            )
        )
    return errors
