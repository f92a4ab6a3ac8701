"""走访记录 (visits) and who is responsible for which household (包户干部 / 帮扶责任人)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .choices import AssignmentKind
from .snapshot import VillageSnapshot


class Assignment(VillageSnapshot):
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="monitoring_assignments"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("职责", max_length=8, choices=AssignmentKind.choices)
    start_on = models.DateField("起")
    end_on = models.DateField("止", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "包户/帮扶责任"
        verbose_name_plural = "包户/帮扶责任"
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=models.Q(end_on__isnull=True),
                name="assignment_one_current_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.get_kind_display()} {self.user_id}"


class Visit(VillageSnapshot):
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="monitoring_visits"
    )
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField("走访日期")
    checklist = models.JSONField("九个方面排查情况", default=dict)
    has_risk = models.BooleanField("有无风险")
    risk_types = models.JSONField("风险类型", default=list, blank=True)
    note = models.TextField("走访情况", blank=True)
    lead = models.ForeignKey(
        "monitoring.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_key = models.CharField(
        "离线提交标识",
        max_length=64,
        blank=True,
        help_text="手机离线记录的幂等标识：同一标识重复提交只保存一次",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["household", "visited_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["client_key"], condition=~models.Q(client_key=""), name="visit_unique_client_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.visited_on} {'有风险' if self.has_risk else '无风险'}"
