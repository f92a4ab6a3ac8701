"""Where a monitoring record happened: the village (and so the township) it belongs to.

Region scope (``accounts.scope.scoped``) reads a monitoring record's own ``village``, not the household's
current village. The snapshot is taken when the record is created; when the household moves
(易地搬迁/迁居), ``services.moves.open_work_follow_household`` moves the work that is still open to the
new village and leaves what is finished where it happened (issue 10: "the household's past stays attached
to where it was, its future to where it is").

``village`` is a foreign key to ``regions.Region`` whose primary key is the 12-digit code, so
``village_id`` *is* the code (same shape as ``Lead.village`` and the trust models); the township is the
first nine digits (``township_code``)."""

from __future__ import annotations

from django.db import models


class VillageSnapshot(models.Model):
    village = models.ForeignKey(
        "regions.Region",
        verbose_name="所属村（记录所在地）",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="记录产生时农户所在行政村；户迁移时未办结事项随户转入新村，已办结记录留在原村",
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding and not self.village_id:
            self.village_id = self.snapshot_village_code()
        super().save(*args, **kwargs)

    @property
    def township_code(self) -> str:
        return self.village_id[:9] + "000"

    def snapshot_village_code(self) -> str:
        """The village this new record belongs to: its household's village now."""
        return self.household.village_id
