"""Mixins shared by registry records: where a row came from, and an optimistic-lock version."""

from __future__ import annotations

import datetime as dt
from typing import Any

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


class Effective(models.Model):
    """Bitemporal versions: each history row of the record has two times — when it was recorded
    (``history_date``) and when its facts took effect (``effective_on``; a death recorded in December
    with effective date 8 November). Without a date a version takes effect when recorded, and a record's
    first version holds since always (an import states what is; nothing earlier is known).
    ``registry.selectors.household_as_of`` / ``members_as_of`` read the versions this way.

    The date belongs to one version only: ``take_effect(on)`` states it for the next save, which writes it
    into that history row and then clears it on the row itself, so no later save — nor a bulk write that
    copies the row into its history (the importer) — inherits it."""

    effective_on = models.DateField(
        "生效日期",
        null=True,
        blank=True,
        help_text="本版本所记事实的生效日期（如死亡日期）；空：自登记时生效，首个版本自始有效",
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        stated = getattr(self, "_effective_stated", False) or self._state.adding
        if not stated:
            self.effective_on = None
        self._effective_stated = False
        if kwargs.get("update_fields") is not None:  # an encrypted field saves its blind indexes with it
            from fangpin.core.fields import with_companions

            kwargs["update_fields"] = with_companions(type(self), kwargs["update_fields"])
        super().save(*args, **kwargs)  # the history row (post_save) carries the date
        if self.effective_on is not None:
            type(self)._base_manager.filter(pk=self.pk).update(effective_on=None)
            self.effective_on = None

    def take_effect(self, on: dt.date | None) -> None:
        """The next save records a version whose facts took effect on ``on`` (None: when recorded)."""
        self.effective_on = on
        self._effective_stated = True
