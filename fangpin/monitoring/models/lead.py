"""风险线索 (leads): one queue fed by every discovery channel, deduplicated per household.

A Lead is the household-level item a village works on; each report that raised it is a LeadSource
(channel, source_ref, evidence). The screening engine joins its runs back through ``source_ref``."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.core.fields import SealedJSONField

from .choices import LeadChannel, LeadOutcome, LeadStatus
from .snapshot import VillageSnapshot


class Lead(models.Model):
    """``village``/``township`` are where the lead is handled: the household's village when it was opened,
    updated only while the lead is open and the household moves (``services.moves``)."""

    household = models.ForeignKey(
        "registry.Household", verbose_name="户", on_delete=models.PROTECT, related_name="monitoring_leads"
    )
    village = models.ForeignKey(
        "regions.Region", verbose_name="承办村", on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "regions.Region", verbose_name="承办乡镇", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("状态", max_length=12, choices=LeadStatus.choices, default=LeadStatus.OPEN)
    outcome = models.CharField("核实结果", max_length=20, choices=LeadOutcome.choices, blank=True)
    outcome_reason = models.TextField("核实说明", blank=True)
    risk_types = models.JSONField("提示风险类型", default=list, blank=True)
    opened_on = models.DateField("线索日期")
    closed_on = models.DateField("办结日期", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "风险线索"
        verbose_name_plural = "风险线索"
        ordering = ["-opened_on", "-id"]
        indexes = [models.Index(fields=["household", "status"]), models.Index(fields=["township", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(status__in=["open", "in_case"]),
                name="lead_one_open_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"线索#{self.pk} {self.household_id} {self.get_status_display()}"


class LeadSource(VillageSnapshot):
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="sources")
    channel = models.CharField("渠道", max_length=24, choices=LeadChannel.choices)
    source_ref = models.CharField("来源标识", max_length=200, blank=True, db_index=True)
    # ID numbers and phones in the evidence (a department record, a self-application) encrypted at rest
    evidence = SealedJSONField("证据", default=dict, blank=True)
    risk_types = models.JSONField("提示风险类型", default=list, blank=True)
    note = models.TextField("说明", blank=True)
    consent_signed = models.BooleanField("已签承诺授权书", default=False)
    consent_on = models.DateField("授权日期", null=True, blank=True)
    already_monitored = models.BooleanField("已是监测对象", default=False)
    monitoring_object = models.ForeignKey(
        "monitoring.MonitoringObject", null=True, blank=True, on_delete=models.PROTECT, related_name="sources"
    )
    outcome = models.CharField("核实结果", max_length=20, choices=LeadOutcome.choices, blank=True)
    submitted_on = models.DateField("提交日期")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "线索来源"
        verbose_name_plural = "线索来源"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.source_ref}"

    def snapshot_village_code(self) -> str:
        return self.lead.household.village_id
