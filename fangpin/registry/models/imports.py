"""Import batches of the national registry export (openIMIS upload shape): one batch per uploaded file,
with its status, counts and per-row rejects. A batch either imports completely or writes nothing."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    VALIDATING = "validating", "校验中"
    CHECKED = "checked", "校验通过（试运行，未写入）"
    MAPPING = "mapping", "待确认列对应（未写入）"
    FAILED = "failed", "未通过（未写入）"
    IMPORTED = "imported", "已导入"


class ImportBatch(models.Model):
    KIND_REGISTRY = "registry"

    kind = models.CharField("导入类型", max_length=32, default=KIND_REGISTRY)
    file_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("文件SHA-256", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    status = models.CharField(
        "状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING, db_index=True
    )
    dry_run = models.BooleanField("试运行", default=False)
    income_year = models.PositiveSmallIntegerField("收入年度", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    upload_path = models.CharField("待处理文件", max_length=500, blank=True)
    header_row = models.PositiveIntegerField("表头行", null=True, blank=True)
    rows = models.PositiveIntegerField("数据行数", default=0)
    households = models.PositiveIntegerField("户数", default=0)
    persons = models.PositiveIntegerField("人数", default=0)
    created = models.PositiveIntegerField("新增人数", default=0)
    updated = models.PositiveIntegerField("更新人数", default=0)
    unchanged = models.PositiveIntegerField("未变人数", default=0)
    rejected = models.PositiveIntegerField("错误行数", default=0)
    details = models.JSONField(
        "明细", default=dict, blank=True, help_text="户/收入/监测各自的新增、更新、未变数，未识别列，耗时"
    )
    monitoring_rows = models.JSONField(
        "监测对象信息", default=list, blank=True, help_text="文件中的监测对象列（按户），交监测模块纳入"
    )
    error_report_path = models.CharField("错误报告", max_length=500, blank=True)
    message = models.TextField("结果说明", blank=True)
    progress_pct = models.PositiveSmallIntegerField("进度（%）", default=0)
    progress_note = models.CharField("当前步骤", max_length=100, blank=True)
    confirmed_batch = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="确认导入批次"
    )

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"导入批次#{self.pk} {self.file_name}"


class ImportReject(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rejects")
    row = models.PositiveIntegerField("行号")
    column = models.CharField("列", max_length=100, blank=True)
    value = models.CharField("值", max_length=200, blank=True)
    reason = models.CharField("原因", max_length=500)
    code = models.CharField("错误代码", max_length=40, blank=True)

    class Meta:
        verbose_name = "导入错误"
        verbose_name_plural = "导入错误"
        ordering = ["batch", "row", "id"]

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}：{self.reason}"


class ImportMapping(models.Model):
    """The answer to the mapping question for one header layout of a national file: which known column
    each unrecognised header of the file is, or "" = not stored. Found again by ``kind`` (the file kind:
    ``registry`` = 监测对象信息, ``living_conditions``, ``village_profile``) and ``signature``
    (``io.read.header_signature``: the layout's normalised headers in any order) on the next upload."""

    kind = models.CharField("导入类型", max_length=32, default=ImportBatch.KIND_REGISTRY)
    signature = models.CharField("表头特征", max_length=64)
    headers = models.JSONField("文件表头", default=list)
    columns = models.JSONField(
        "列对应关系", default=dict, help_text='{"家庭编号": "household_no", "本县备注": ""}（空 = 不导入）'
    )
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField("保存时间")
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "导入列对应"
        verbose_name_plural = "导入列对应"
        ordering = ["-saved_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "signature"], name="registry_importmapping_kind_signature"
            )
        ]

    def __str__(self) -> str:
        return f"导入列对应 v{self.version}（{len(self.columns)}列）"
