"""Export jobs (下载中心): an export of a filtered list above ``registry.export.job_rows`` rows is written by a
background job, not inside the web request. The finished workbook is kept SM4-GCM-encrypted at rest
(``core.crypto.seal_stream``), served only to the user who asked for it, audited at every fetch and deleted
after ``security.retention.export_days`` (``core.retention``). Services: ``registry.services.export_jobs``."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExportJobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    PURGED = "purged", "已过期删除"


FILTER_LABELS = {  # the household list's filters (monitoring.household_search.HouseholdFilter), for the pages
    "q": "检索词", "region": "区域", "household_type": "户类型", "monitoring": "监测状态", "category": "监测类别",
    "risk_type": "风险类型", "below_line": "低于监测线", "has_findings": "有逻辑校验问题", "overdue": "逾期",
    "sort": "排序",
}  # fmt: skip


class ExportJob(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="导出人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=ExportJobStatus.choices, default=ExportJobStatus.QUEUED, db_index=True
    )
    on = models.DateField("业务日期")
    kind = models.CharField("导出格式", max_length=16, default="registry")
    region_code = models.CharField("区域", max_length=12, blank=True)
    unmasked = models.BooleanField("明文导出", default=False)
    income_year = models.PositiveSmallIntegerField("收入年度", null=True, blank=True)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    estimated_rows = models.PositiveIntegerField("预计行数", default=0)
    rows = models.PositiveIntegerField("行数", default=0)
    households = models.PositiveIntegerField("户数", default=0)
    sha256 = models.CharField("文件SHA-256（明文工作簿）", max_length=64, blank=True)
    size = models.PositiveBigIntegerField("加密文件大小（字节）", default=0)
    file_path = models.CharField("加密文件", max_length=500, blank=True)
    file_name = models.CharField("下载文件名", max_length=120, blank=True)
    message = models.CharField("结果说明", max_length=500, blank=True)
    downloads = models.PositiveIntegerField("下载次数", default=0)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        indexes = [models.Index(fields=["created_by", "-created_at"], name="registry_exportjob_user")]

    def __str__(self) -> str:
        return f"导出任务{self.pk}（{self.get_status_display()}）"

    @property
    def filters_text(self) -> str:
        """The filter in Chinese (检索词=王建，户类型=脱贫户), or 全部 for the user's whole scope."""
        parts = [
            f"{FILTER_LABELS.get(k, k)}" + ("" if v == "1" else f"={v}") for k, v in self.filters.items()
        ]
        return "，".join(parts) or "本人管辖范围全部户"

    @property
    def ready(self) -> bool:
        return self.status == ExportJobStatus.DONE
