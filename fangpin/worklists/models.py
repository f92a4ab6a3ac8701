"""Saved working lists (工作清单): a named household-list view — filters, columns, sort — that its owner
can share with their township. Only the view is stored, never the households: opening it re-runs the
search inside the opener's own region scope."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedList(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=50)
    params = models.JSONField("筛选条件与排序", default=dict)
    columns = models.JSONField("显示列", default=list)
    shared_township = models.CharField(
        "共享给乡镇", max_length=12, blank=True, help_text="乡镇代码；空 = 仅本人可见"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "工作清单"
        verbose_name_plural = "工作清单"
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="savedlist_owner_name")]

    def __str__(self) -> str:
        return self.name
