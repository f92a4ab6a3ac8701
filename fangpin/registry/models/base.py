"""Mixins shared by registry records: where a row came from, and an optimistic-lock version."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ..choices import SourceKind


class Sourced(models.Model):
    """Row-level provenance. Field-level deviations (a value set later by another source) are in
    FactProvenance; the household file shows, per field, the latest of the two."""

    source_kind = models.CharField(
        "来源", max_length=16, choices=SourceKind.choices, default=SourceKind.MANUAL
    )
    source_ref = models.CharField(
        "来源说明", max_length=200, blank=True, help_text="如 导入文件#12 第45行、部门批次#3 第7行、用户#5"
    )
    source_at = models.DateTimeField("来源时间", null=True, blank=True)

    class Meta:
        abstract = True


class Tracked(models.Model):
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True
