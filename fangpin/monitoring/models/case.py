"""监测对象 (monitoring objects) and the procedures (cases) that enrol, eliminate or reverse them.

MonitoringObject: one enrolment period of a household (identified_on … eliminated_on).
Case: one run of a review chain (identification, elimination or reversal); its steps are CaseStep rows
created from the step table in ``monitoring.workflows``; every transition appends a CaseEvent.
Nothing here is ever deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.core.integrity import IntegritySealed

from .choices import (
    CaseKind,
    CaseStatus,
    Category,
    EliminationMethod,
    ObjectOrigin,
    ObjectStatus,
    StepStatus,
)
from .snapshot import VillageSnapshot

_USER = {"null": True, "blank": True, "on_delete": models.PROTECT, "related_name": "+"}


class NoDelete(models.Model):
    """Rows that are evidence: refuse deletion at the ORM level."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):  # pragma: no cover - defensive
        raise RuntimeError(f"{self._meta.label} rows are never deleted")


class MonitoringObject(IntegritySealed, VillageSnapshot, NoDelete):
    SEAL_FIELDS = ("household", "category", "category_derived", "category_override_reason", "risk_types",
                   "identified_on", "status", "origin", "eliminated_on", "elimination_method",
                   "gradual_exit_until", "reversals", "decision")  # fmt: skip

    household = models.ForeignKey(
        "registry.Household", verbose_name="户", on_delete=models.PROTECT, related_name="monitoring_objects"
    )
    category = models.CharField("监测对象类别", max_length=10, choices=Category.choices)
    category_derived = models.CharField("系统判定类别", max_length=10, blank=True)
    category_override_reason = models.TextField("类别调整理由", blank=True)
    risk_types = models.JSONField("致贫/返贫风险", default=list)
    identified_on = models.DateField("识别监测时间")
    status = models.CharField(
        "状态", max_length=12, choices=ObjectStatus.choices, default=ObjectStatus.ACTIVE, db_index=True
    )
    origin = models.CharField("纳入方式", max_length=16, choices=ObjectOrigin.choices)
    eliminated_on = models.DateField("风险消除时间", null=True, blank=True)
    elimination_method = models.CharField(
        "风险消除方式", max_length=8, choices=EliminationMethod.choices, blank=True
    )
    gradual_exit_until = models.DateField("渐退期截止", null=True, blank=True)
    reversals = models.PositiveSmallIntegerField("回退次数", default=0)
    lead = models.ForeignKey(
        "monitoring.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_ref = models.CharField("来源标识", max_length=200, blank=True)
    decision = models.JSONField(
        "判定依据", default=dict, blank=True, help_text="收入、三保障核查结果及所用参数版本"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_USER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "监测对象"
        verbose_name_plural = "监测对象"
        ordering = ["-identified_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "identified_on"], name="mo_household_identified_on"),
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(status="active"), name="mo_one_active_per_household"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.category} {self.identified_on:%Y%m}"

    def integrity_label(self) -> str:
        return f"户编号 {self.household.household_no} 的监测对象（{self.identified_on:%Y-%m-%d} 识别，编号 {self.pk}）"


class Case(IntegritySealed, VillageSnapshot, NoDelete):
    SEAL_FIELDS = ("kind", "household", "monitoring_object", "status", "current_step", "green_channel",
                   "started_on", "closed_on", "result_reason", "proposal", "facts", "params")  # fmt: skip

    kind = models.CharField("程序", max_length=16, choices=CaseKind.choices)
    household = models.ForeignKey(
        "registry.Household", verbose_name="户", on_delete=models.PROTECT, related_name="monitoring_cases"
    )
    lead = models.ForeignKey(
        "monitoring.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    monitoring_object = models.ForeignKey(
        MonitoringObject, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField("状态", max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    current_step = models.CharField("当前环节", max_length=16, blank=True)
    green_channel = models.BooleanField("绿色通道", default=False)
    started_on = models.DateField("启动日期")
    due_on = models.DateField("办结时限")
    closed_on = models.DateField("办结日期", null=True, blank=True)
    result_reason = models.TextField("办理结果说明", blank=True)
    proposal = models.JSONField("拟认定内容", default=dict, blank=True)
    facts = models.JSONField("核查结果", default=dict, blank=True)
    params = models.JSONField("所用参数", default=list, blank=True)
    pause_reason = models.TextField("暂停原因", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_USER)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "办理程序"
        verbose_name_plural = "办理程序"
        ordering = ["-started_on", "-id"]
        indexes = [models.Index(fields=["status", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=models.Q(status__in=["open", "paused"]),
                name="case_one_open_per_household_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}#{self.pk}"

    def integrity_label(self) -> str:
        return f"户编号 {self.household.household_no} 的{self.get_kind_display()}（办理程序编号 {self.pk}）"


class CaseStep(IntegritySealed, NoDelete):
    """One step of a chain: who approved it, when, with what record (an approval is a decision: sealed)."""

    SEAL_FIELDS = ("case", "code", "seq", "status", "completed_on", "actor", "data")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="steps")
    code = models.CharField("环节", max_length=16)
    seq = models.PositiveSmallIntegerField()
    name = models.CharField("环节名称", max_length=20)
    status = models.CharField("状态", max_length=12, choices=StepStatus.choices, default=StepStatus.PENDING)
    started_on = models.DateField("开始日期", null=True, blank=True)
    due_on = models.DateField("时限", null=True, blank=True)
    completed_on = models.DateField("完成日期", null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, **_USER)
    data = models.JSONField("环节记录", default=dict, blank=True)
    paused_days = models.PositiveSmallIntegerField("暂停天数", default=0)

    class Meta:
        verbose_name = "办理环节"
        verbose_name_plural = "办理环节"
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "code"], name="casestep_unique_code")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.name}({self.get_status_display()})"

    def integrity_label(self) -> str:
        c = self.case
        return (f"户编号 {c.household.household_no} 的{c.get_kind_display()}（办理程序编号 {c.pk}）"
                f"“{self.name}”环节（编号 {self.pk}）")  # fmt: skip


class CaseEvent(IntegritySealed, NoDelete):
    """Who did what to a case, when (business date and wall clock), with the change itself. Approvals,
    rejections, pauses and reversals are recorded here with their reasons: sealed like the steps."""

    SEAL_FIELDS = ("case", "at", "on", "actor", "actor_role", "kind", "step", "data", "audit_seq")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField("记录时间", auto_now_add=True)
    on = models.DateField("业务日期")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, **_USER)
    actor_role = models.CharField(max_length=32, blank=True)
    kind = models.CharField("事件", max_length=32)
    step = models.CharField("环节", max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)
    audit_seq = models.BigIntegerField("审计序号", null=True, blank=True)

    class Meta:
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.step}"

    def integrity_label(self) -> str:
        c = self.case
        return (f"户编号 {c.household.household_no} 的{c.get_kind_display()}（办理程序编号 {c.pk}）"
                f"{self.on:%Y-%m-%d}的办理记录“{self.kind}”（编号 {self.pk}）")  # fmt: skip
