"""Discrepancy: a value from another source that contradicts the registry, shown with both sources."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", "待核实"
    ACCEPTED = "accepted", "核实后采用"
    REJECTED = "rejected", "核实后不采用"
    APPLIED_BY_POLICY = "applied_by_policy", "按冲突规则采用"


class Discrepancy(models.Model):
    """Never a silent overwrite: the registry value, the contradicting value, both sources, and what
    happened. ``village`` is where the household was when the discrepancy arose (moved while open → updated)."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="discrepancies"
    )
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    fact = models.ForeignKey(
        "registry.FactProvenance", on_delete=models.PROTECT, related_name="discrepancies"
    )
    entity = models.CharField("对象", max_length=16)
    entity_id = models.BigIntegerField()
    field = models.CharField("字段", max_length=64)
    field_label = models.CharField("字段名称", max_length=64)
    registry_value = models.TextField("户档案中的值", blank=True)
    registry_source = models.CharField("户档案值来源", max_length=300, blank=True)
    proposed_value = models.TextField("新来源的值", blank=True)
    source_kind = models.CharField("新来源", max_length=16)
    source_ref = models.CharField("新来源说明", max_length=200, blank=True)
    department = models.CharField("部门", max_length=32, blank=True)
    observed_on = models.DateField("事实日期", null=True, blank=True)
    policy_rule = models.CharField("适用冲突规则", max_length=300, blank=True)
    status = models.CharField(
        "状态",
        max_length=20,
        choices=DiscrepancyStatus.choices,
        default=DiscrepancyStatus.OPEN,
        db_index=True,
    )
    due_on = models.DateField("核实期限", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_reason = models.CharField("处理理由", max_length=300, blank=True)

    class Meta:
        verbose_name = "数据差异"
        verbose_name_plural = "数据差异"
        indexes = [models.Index(fields=["entity", "entity_id", "field", "status"])]

    def __str__(self) -> str:
        return f"{self.entity}#{self.entity_id}.{self.field}: {self.registry_value}→{self.proposed_value}"
