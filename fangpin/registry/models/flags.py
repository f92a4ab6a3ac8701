"""Maintained per-household facts the household list filters on (``registry.flags``)."""

from __future__ import annotations

from django.db import models


class HouseholdFlags(models.Model):
    """One row per household: whether its 人均纯收入 is under the monitoring line (for ``income_month``) and
    how many data-quality findings the rules give it (for ``checked_on``), and which (``finding_list``). Written only by
    ``registry.flags``: marked ``dirty`` in the same transaction as any change to the household, a member,
    an income record or an audited state change of the household, recomputed before a list reads it (dirty
    rows, rows of another day, households without a row), and rebuilt every night (``fangpin flags_rebuild``)."""

    household = models.OneToOneField(
        "registry.Household", primary_key=True, on_delete=models.CASCADE, related_name="flags"
    )
    dirty = models.BooleanField(default=True)
    gen = models.PositiveIntegerField("变更代数", default=0)  # +1 per touch: a concurrent change wins
    income_month = models.DateField("收入判断所属月份", null=True)
    per_capita = models.DecimalField("人均纯收入", max_digits=12, decimal_places=2, null=True)
    below_line = models.BooleanField("低于监测收入线", default=False)
    checked_on = models.DateField("逻辑校验日期", null=True)
    findings = models.PositiveIntegerField("逻辑校验问题数", default=0)
    finding_codes = models.CharField("问题规则代码", max_length=500, blank=True)  # comma-separated
    # the findings themselves, in the rules' order: [[code, message, person_id, field], ...]; NULL where the
    # row was only marked (a touch) or computed before the column existed. The household file's 逻辑校验
    # section shows them while the row is clean and of the day (checks.report.household_findings_cached).
    finding_list = models.JSONField("逻辑校验问题明细", null=True)
    computed_at = models.DateTimeField(null=True)
    # the household's village and 户编号, kept by the database (triggers of registry migration 0018, on
    # PostgreSQL and SQLite alike: every insert of a row, every change of a household's village or 户编号,
    # through the models, bulk update() or raw SQL): a village's flagged households in the list's order
    # straight from the partial indexes below, without a probe of every flagged household of the county
    village = models.CharField("所属行政村", max_length=12, blank=True, db_default="")
    household_no = models.CharField("户编号", max_length=32, blank=True, db_default="")

    class Meta:
        verbose_name = "户筛选标记"
        indexes = [
            models.Index(fields=["checked_on"], name="hhflags_checked_on"),
            models.Index(fields=["income_month"], name="hhflags_income_month"),
            models.Index(fields=["household"], condition=models.Q(dirty=True), name="hhflags_dirty"),
            models.Index(fields=["household"], condition=models.Q(below_line=True), name="hhflags_below"),
            models.Index(fields=["household"], condition=models.Q(findings__gt=0), name="hhflags_findings"),
            # a village's rows to recompute (flags._village_stale_rows), index-only
            models.Index(fields=["village", "checked_on", "dirty"], name="hhflags_village_state"),
            models.Index(
                fields=["village", "household_no", "household"],
                condition=models.Q(below_line=True),
                name="hhflags_village_below",
            ),
            models.Index(
                fields=["village", "household_no", "household"],
                condition=models.Q(findings__gt=0),
                name="hhflags_village_findings",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: below={self.below_line} findings={self.findings}"
