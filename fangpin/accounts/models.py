"""Users. Each user has one role and one region (a 12-digit code whose prefix is the scope)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from fangpin.core.fields import EncryptedCharField
from fangpin.regions.models import code_prefix

from .roles import Role, role_can


class User(AbstractUser):
    role = models.CharField("角色", max_length=32, choices=Role.choices, default=Role.LEADER)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name="管辖区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.CharField(
        "所属部门", max_length=32, blank=True, help_text="部门数据专员所属部门，如 医保"
    )
    # staff phones are personal data too: encrypted at rest (core.fields), never looked up by value
    phone = EncryptedCharField("联系电话", purpose="phone", plain_max_length=20, blank=True)
    display_name = models.CharField("姓名", max_length=50, blank=True)
    is_demo = models.BooleanField(
        "演示账号", default=False, help_text="fangpin setup 创建的演示账号；生产环境拒绝登录"
    )
    otp_exempt = models.BooleanField(
        "免动态口令", default=False, help_text="仅开发/演示环境有效（FANGPIN_OTP_EXEMPT_ALLOWED）"
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    @property
    def scope_prefix(self) -> str | None:
        """The region prefix every query is limited to; None = no registry access at all."""
        if self.role in (Role.DEPT_OFFICER, Role.AUDITOR):
            return None
        if self.region_id is None:
            return None
        return code_prefix(self.region_id)

    def can(self, cap: str) -> bool:
        return self.is_active and role_can(self.role, cap)

    def __str__(self) -> str:
        return self.display_name or self.username
