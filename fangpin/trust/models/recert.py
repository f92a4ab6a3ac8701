"""Re-verification of a household (定期复核): the registry's "still true as of" date."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Recertification(models.Model):
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="recertifications"
    )
    verified_on = models.DateField("核实日期", db_index=True)
    method = models.CharField(
        "方式", max_length=16, default="visit", help_text="visit 入户 / phone 电话 / document 材料"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "定期复核"
        verbose_name_plural = "定期复核"
        indexes = [models.Index(fields=["household", "verified_on"])]

    def __str__(self) -> str:
        return f"复核 户{self.household_id} {self.verified_on}"
