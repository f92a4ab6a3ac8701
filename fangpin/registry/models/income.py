"""Income records of a household for a period (a year, a quarter or a month), with every component."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from simple_history.models import HistoricalRecords

from fangpin.core.integrity import IntegritySealed
from fangpin.policy.rules.income import TRANSFER_ITEMS

from .base import Sourced, Tracked

_MONEY = {"max_digits": 12, "decimal_places": 2, "default": 0}

TRANSFER_FIELDS = TRANSFER_ITEMS  # one list of 转移性 items, owned by the income rule


class IncomeRecord(IntegritySealed, Sourced, Tracked):
    # the figures a judgement is computed from (INT-01): every amount, the period and the household
    SEAL_FIELDS = ("household", "period_start", "period_end", "wage", "production_business", "property_income",
                   *TRANSFER_ITEMS, "production_expense", "insurance_payout", "compliant_out_of_pocket",
                   "stated_per_capita", "excluded")  # fmt: skip

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="income_records"
    )
    period_start = models.DateField("期间起")
    period_end = models.DateField("期间止")
    wage = models.DecimalField("工资性收入", **_MONEY)
    production_business = models.DecimalField("生产经营性收入", **_MONEY)
    property_income = models.DecimalField("财产性收入", **_MONEY)
    transfer_pension = models.DecimalField("养老金", **_MONEY)
    transfer_dibao = models.DecimalField("低保金", **_MONEY)
    transfer_tekun = models.DecimalField("特困供养金", **_MONEY)
    transfer_eco_compensation = models.DecimalField("生态补偿金", **_MONEY)
    transfer_family_planning = models.DecimalField("计划生育金", **_MONEY)
    transfer_subsidies = models.DecimalField("经常性政策补贴", **_MONEY)
    transfer_support = models.DecimalField("赡养性收入", **_MONEY)
    transfer_other = models.DecimalField("其他转移性收入", **_MONEY)
    production_expense = models.DecimalField("生产经营性支出", **_MONEY)
    insurance_payout = models.DecimalField("理赔收入", **_MONEY)
    compliant_out_of_pocket = models.DecimalField("合规自付支出", **_MONEY)
    # 人均纯收入（元） as the source file states it (never used for a judgement: the checks compare it
    # with the components, registry.checks P-INCOME-STATED)
    stated_per_capita = models.DecimalField(
        "人均纯收入（来源值）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    excluded = models.JSONField(
        "不计入收入的款项",
        default=dict,
        blank=True,
        help_text='如 {"危房改造补助": 20000, "慰问金": 500}：记录但不计入',
    )
    note = models.CharField("备注", max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "integrity_mac"])

    class Meta:
        verbose_name = "收入记录"
        verbose_name_plural = "收入记录"
        ordering = ["household", "period_start"]
        indexes = [models.Index(fields=["household", "period_end"])]

    def integrity_label(self) -> str:
        return f"户编号 {self.household.household_no} 的收入记录（{self.period_start:%Y-%m-%d}至{self.period_end:%Y-%m-%d}，编号 {self.pk}）"

    @property
    def transfer(self) -> Decimal:
        return sum((getattr(self, f) for f in TRANSFER_FIELDS), Decimal(0))
