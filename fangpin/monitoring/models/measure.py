"""帮扶措施 (一户一策, 一人一措施): measures from the catalogue parameter, with dates, amount, status."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.core.integrity import IntegritySealed

from .choices import MeasureStatus
from .snapshot import VillageSnapshot


class Measure(IntegritySealed, VillageSnapshot):
    SEAL_FIELDS = ("monitoring_object", "household", "person", "name", "kind", "start_on", "end_on", "amount",
                   "status", "outcome", "continues_after_elimination")  # fmt: skip

    monitoring_object = models.ForeignKey(
        "monitoring.MonitoringObject", on_delete=models.PROTECT, related_name="measures"
    )
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("措施", max_length=30)
    kind = models.CharField("措施类别", max_length=16, help_text="developmental / protection / …（目录参数）")
    start_on = models.DateField("开始日期")
    end_on = models.DateField("结束日期", null=True, blank=True)
    amount = models.DecimalField("金额（元）", max_digits=12, decimal_places=2, default=0)
    status = models.CharField(
        "状态", max_length=12, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED
    )
    outcome = models.TextField("成效", blank=True)
    continues_after_elimination = models.BooleanField("消除后继续至自然结束", default=False)
    catalogue_ref = models.JSONField("目录参数", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "帮扶措施"
        verbose_name_plural = "帮扶措施"
        ordering = ["monitoring_object", "start_on", "id"]

    def __str__(self) -> str:
        return f"{self.name}({self.get_status_display()})"

    def integrity_label(self) -> str:
        return f"户编号 {self.household.household_no} 的帮扶措施“{self.name}”（{self.amount} 元，编号 {self.pk}）"
