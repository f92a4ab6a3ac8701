"""Outgoing messages as recorded by the local outbox (the default message backend)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OutgoingMessage(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_address = models.CharField("发送地址", max_length=100, blank=True, help_text="手机号或平台账号")
    channel = models.CharField("渠道", max_length=16, default="sms")
    subject = models.CharField("标题", max_length=100)
    body = models.TextField("内容")
    dedupe_key = models.CharField(max_length=120, blank=True, db_index=True)
    backend = models.CharField(max_length=32)
    status = models.CharField(max_length=10, default="queued", help_text="queued / sent / failed")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "外发消息"
        verbose_name_plural = "外发消息"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_id}"
