"""Disaster events (应急管理) and the per-household losses recorded after them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DisasterEvent(models.Model):
    number = models.CharField("编号", max_length=32, unique=True)
    kind = models.CharField("灾害类型", max_length=20)
    occurred_on = models.DateField("发生日期")
    severity = models.CharField("灾情等级", max_length=10)
    description = models.TextField("灾情描述", blank=True)
    fingerprint = models.CharField(max_length=64, unique=True, help_text="类型+日期+村：同一灾害只登记一次")
    source_ref = models.CharField("来源", max_length=200, blank=True, help_text="手工录入 / 导入文件及行号")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "灾害事件"
        verbose_name_plural = "灾害事件"
        ordering = ["-occurred_on", "id"]

    def __str__(self) -> str:
        return f"{self.number} {self.kind}"


class DisasterVillage(models.Model):
    """The area of an event, one row per village (so the event is scoped like everything else)."""

    event = models.ForeignKey(DisasterEvent, on_delete=models.PROTECT, related_name="villages")
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "village"], name="disaster_village_once")]

    def __str__(self) -> str:
        return f"{self.event_id}@{self.village_id}"


class DisasterLoss(models.Model):
    event = models.ForeignKey(DisasterEvent, on_delete=models.PROTECT, related_name="losses")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="disaster_losses"
    )
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    loss_amount = models.DecimalField("直接经济损失（元）", max_digits=12, decimal_places=2, default=0)
    house_damaged = models.BooleanField("住房损毁", default=False)
    injured = models.PositiveSmallIntegerField("受伤/死亡人数", default=0)
    description = models.CharField("损失情况", max_length=300, blank=True)
    lead_status = models.CharField(
        "线索推送",
        max_length=16,
        default="none",
        help_text="none 未达线索标准 / sent 已推送 / pending 待推送",
    )
    lead_ref = models.CharField("线索编号", max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_on = models.DateField("登记日期")

    class Meta:
        verbose_name = "灾害损失"
        verbose_name_plural = "灾害损失"
        constraints = [models.UniqueConstraint(fields=["event", "household"], name="disaster_loss_once")]

    def __str__(self) -> str:
        return f"{self.event_id} 户{self.household_id} {self.loss_amount}"
