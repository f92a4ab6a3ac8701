"""Shared trust records: number sequences (SS-410506-2025-0001) and the per-household task list."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction


class Counter(models.Model):
    """One row per numbering series (e.g. ``SS-410506-2025``); incremented under a row lock."""

    key = models.CharField(max_length=40, unique=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "编号序列"
        verbose_name_plural = "编号序列"

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


def next_number(prefix: str, county: str, year: int) -> str:
    """``SS-410506-2025-0001``: gap-free per county and year (row lock, so concurrent lodging is safe)."""
    key = f"{prefix}-{county}-{year}"
    with transaction.atomic():
        Counter.objects.get_or_create(key=key)
        c = Counter.objects.select_for_update().get(key=key)
        c.value += 1
        c.save(update_fields=["value"])
    return f"{key}-{c.value:04d}"


class TaskKind(models.TextChoices):
    DISCREPANCY = "discrepancy", "核实数据差异"
    RECERT = "recert", "定期复核"
    DISASTER_VISIT = "disaster_visit", "灾后走访"


class TaskStatus(models.TextChoices):
    OPEN = "open", "待办"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"


class Task(models.Model):
    """Work a village cadre must do for one household. It follows the household: after a move the open
    task belongs to the new village (region path ``household__village__code``)."""

    kind = models.CharField("类型", max_length=20, choices=TaskKind.choices, db_index=True)
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="trust_tasks")
    title = models.CharField("事项", max_length=200)
    due_on = models.DateField("截止日期", db_index=True)
    status = models.CharField("状态", max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee_role = models.CharField("承办角色", max_length=32, default="village_cadre")
    ref_type = models.CharField("关联对象", max_length=32, blank=True)
    ref_id = models.BigIntegerField("关联对象ID", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "待办事项"
        verbose_name_plural = "待办事项"
        indexes = [
            models.Index(fields=["status", "kind", "due_on"]),
            models.Index(fields=["ref_type", "ref_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household_id} {self.due_on}"
