"""异议/申诉: lodged by a household (or anyone during 公示), numbered, owned, escalated, decided."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppealKind(models.TextChoices):
    NOT_INCLUDED = "not_included", "对不予纳入有异议"
    ELIMINATION = "elimination", "对风险消除有异议"
    WRONG_FACT = "wrong_fact", "信息错误"
    PUBLICITY = "publicity", "公示期异议"


class AppealStatus(models.TextChoices):
    OPEN = "open", "办理中"
    DECIDED = "decided", "已办结"


class AppealOutcome(models.TextChoices):
    UPHELD = "upheld", "异议成立"
    PARTLY = "partly", "部分成立"
    DISMISSED = "dismissed", "异议不成立"


class Appeal(models.Model):
    number = models.CharField("编号", max_length=32, unique=True)
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="appeals")
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=16, choices=AppealKind.choices)
    content = models.TextField("异议内容")
    lodged_by_name = models.CharField("提出人", max_length=50)
    lodged_by_relation = models.CharField(
        "提出人身份", max_length=20, default="本户", help_text="本户/群众/其他"
    )
    lodged_on = models.DateField("提出日期")
    during_publicity = models.BooleanField("公示期内提出", default=False)
    case_ref = models.CharField("关联案件", max_length=64, blank=True)
    case_id = models.BigIntegerField("关联案件ID", null=True, blank=True)
    case_step = models.CharField("关联环节", max_length=32, blank=True)
    case_paused = models.BooleanField("已暂停关联环节", default=False)
    evidence = models.JSONField("材料", default=list, blank=True)
    owner_level = models.CharField("承办层级", max_length=16)
    owner_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField("办理期限", db_index=True)
    escalations = models.JSONField("升级记录", default=list, blank=True)
    overdue_at_top = models.BooleanField("最高层级仍逾期", default=False)
    status = models.CharField(
        "状态", max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN, db_index=True
    )
    outcome = models.CharField("结果", max_length=12, choices=AppealOutcome.choices, blank=True)
    outcome_reason = models.TextField("办理结果及理由", blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "异议申诉"
        verbose_name_plural = "异议申诉"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.number
