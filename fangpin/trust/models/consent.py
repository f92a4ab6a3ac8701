"""承诺授权书: the signed authorisation to check a family's assets and incomes with departments."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Consent(models.Model):
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="consents")
    signed_on = models.DateField("签署日期")
    signed_by_name = models.CharField("签署人", max_length=50)
    scope = models.JSONField("授权范围", default=list, help_text='如 ["income", "assets"]；"all" 为全部')
    valid_until = models.DateField("有效期至", null=True, blank=True)
    paper_holder = models.CharField("纸质件保管处", max_length=100, help_text="如 马家乡贾家村村委会档案柜")
    evidence_path = models.CharField("扫描件", max_length=300, blank=True)
    withdrawn_on = models.DateField("撤回日期", null=True, blank=True)
    withdrawn_reason = models.CharField("撤回原因", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "承诺授权书"
        verbose_name_plural = "承诺授权书"
        ordering = ["household", "signed_on"]

    def __str__(self) -> str:
        return f"授权书 户{self.household_id} {self.signed_on}"
