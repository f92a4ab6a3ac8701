"""Append-only audit trail with a hash chain (who did or saw what, when, to which object)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_role = models.CharField(max_length=32, blank=True)
    event_type = models.CharField("事件", max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    region_code = models.CharField(max_length=12, blank=True, db_index=True)
    household_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    result = models.CharField(max_length=16, default="ok")
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.object_type}:{self.object_id}"
