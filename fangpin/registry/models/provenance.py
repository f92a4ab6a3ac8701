"""Field-level provenance: who says a fact, since when, and whether the registry accepted it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ..choices import SourceKind


class FactStatus(models.TextChoices):
    ACCEPTED = "accepted", "已采用"
    PENDING = "pending", "待核实"
    REJECTED = "rejected", "未采用"
    SUPERSEDED = "superseded", "已被替代"


class FactProvenance(models.Model):
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="facts")
    entity = models.CharField("对象", max_length=16, help_text="household / person / income")
    entity_id = models.BigIntegerField()
    field = models.CharField("字段", max_length=64)
    value = models.TextField("值", blank=True)
    source_kind = models.CharField("来源", max_length=16, choices=SourceKind.choices)
    source_ref = models.CharField("来源说明", max_length=200, blank=True)
    observed_on = models.DateField("事实发生/核实日期", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=FactStatus.choices, default=FactStatus.ACCEPTED)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "数据来源"
        verbose_name_plural = "数据来源"
        indexes = [
            models.Index(fields=["entity", "entity_id", "field"]),
            models.Index(fields=["household", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.entity}#{self.entity_id}.{self.field}={self.value} ({self.get_source_kind_display()})"
