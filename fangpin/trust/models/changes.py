"""Change requests: every change to a household goes through one, with its evidence and its approval."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fangpin.core.fields import SealedJSONField
from fangpin.core.integrity import IntegritySealed


class ChangeKind(models.TextChoices):
    CONTACT = "contact", "联系方式/地址"
    CONDITION = "condition", "生产生活条件"
    PERSON = "person", "成员信息"
    MEMBER_ADD = "member_add", "成员增加"
    MEMBER_REMOVE = "member_remove", "成员减少"
    INCOME = "income", "收入信息"
    MOVE = "move", "迁移（易地搬迁/迁居）"
    SPLIT = "split", "分户"
    MERGE = "merge", "合户"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPLIED = "applied", "已生效"
    REJECTED = "rejected", "已驳回"
    FAILED = "failed", "无法执行"


class ChangeRequest(IntegritySealed):
    """A maker-checker decision on a household's record. Sealed (core.integrity, INT-01): what was asked, by
    whom, who decided, when, why and what was applied. ``village`` is not sealed: it follows the household
    when it moves (like the monitoring records' village snapshot)."""

    SEAL_FIELDS = ("number", "household", "kind", "payload", "evidence", "reason", "source_kind",
                   "required_level", "status", "maker", "checker", "created_at", "decided_at",
                   "decision_reason", "applied_changes", "result")  # fmt: skip

    number = models.CharField("编号", max_length=32, unique=True)
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="change_requests"
    )
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=16, choices=ChangeKind.choices)
    payload = SealedJSONField("变更内容")  # ID numbers and phones encrypted at rest (core.fields.seal)
    evidence = models.JSONField(
        "佐证材料", default=list, blank=True, help_text='[{"path": ..., "description": ...}]'
    )
    reason = models.CharField("变更理由", max_length=300)
    source_kind = models.CharField("来源", max_length=16, default="manual")
    required_level = models.CharField("审批层级", max_length=16, help_text="none / township / county")
    status = models.CharField(
        "状态", max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField("审批意见", max_length=300, blank=True)
    applied_changes = models.JSONField("实际变更", default=list, blank=True)
    result = models.JSONField("执行结果", default=dict, blank=True)

    class Meta:
        verbose_name = "变更申请"
        verbose_name_plural = "变更申请"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.number

    def integrity_label(self) -> str:
        return f"户编号 {self.household.household_no} 的变更申请 {self.number}（编号 {self.pk}）"
