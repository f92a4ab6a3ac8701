"""Policy parameters as data, keyed by (key, region prefix, year), versioned, with their source."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Parameter(models.Model):
    key = models.CharField("参数", max_length=100, db_index=True)
    region_code = models.CharField(
        "适用区域前缀", max_length=12, blank=True, help_text="空=全国；41=河南省；410506=龙安区"
    )
    year = models.PositiveSmallIntegerField("起始年度", help_text="自该年度起适用，直到有更晚年度的值")
    value = models.JSONField("值")
    basis = models.CharField("依据/口径", max_length=300, blank=True)
    doc_no = models.CharField("文件号", max_length=100, blank=True)
    effective_from = models.DateField("生效日期", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    is_active = models.BooleanField("有效", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "政策参数"
        verbose_name_plural = "政策参数"
        ordering = ["key", "region_code", "year", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "region_code", "year", "version"], name="param_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.region_code or '全国'}/{self.year} v{self.version}"
