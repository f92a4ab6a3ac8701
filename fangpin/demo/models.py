"""What the demo generator produced: the dataset, the planted defects (the answer key for the checks)
and the monitoring objects it generated (enrolled through the monitoring service when it exists)."""

from __future__ import annotations

from django.db import models


class DemoDataset(models.Model):
    county_code = models.CharField("县级区划代码", max_length=6, unique=True)
    seed = models.IntegerField("随机种子")
    scale = models.FloatField("规模系数", default=1.0)
    as_of = models.DateField("数据截止日期")
    counts = models.JSONField("数量", default=dict)
    params = models.JSONField("所用参数", default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "演示数据集"
        verbose_name_plural = "演示数据集"

    def __str__(self) -> str:
        return f"{self.county_code} seed={self.seed} scale={self.scale}"


class PlantedDefect(models.Model):
    dataset = models.ForeignKey(DemoDataset, on_delete=models.PROTECT, related_name="defects")
    code = models.CharField("规则代码", max_length=32, db_index=True)
    household_no = models.CharField("户编号", max_length=32)
    person_no = models.CharField("人编号", max_length=40, blank=True)
    detail = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "预置数据问题"
        verbose_name_plural = "预置数据问题"
        ordering = ["code", "household_no", "person_no"]

    def __str__(self) -> str:
        return f"{self.code} {self.household_no} {self.person_no}"


class GeneratedMonitoring(models.Model):
    dataset = models.ForeignKey(DemoDataset, on_delete=models.PROTECT, related_name="monitoring")
    household_no = models.CharField("户编号", max_length=32)
    category = models.CharField("监测对象类别", max_length=10)
    risk_types = models.JSONField("致贫/返贫风险", default=list)
    identified_on = models.DateField("识别监测时间")
    eliminated_on = models.DateField("风险消除时间", null=True, blank=True)
    elimination_method = models.CharField("风险消除方式", max_length=8, blank=True)
    enrolled = models.BooleanField("已纳入监测系统", default=False)
    enrol_error = models.CharField("纳入失败原因", max_length=300, blank=True)

    class Meta:
        verbose_name = "演示监测对象"
        verbose_name_plural = "演示监测对象"
        ordering = ["household_no"]

    def __str__(self) -> str:
        return f"{self.household_no} {self.category} {self.identified_on:%Y%m}"


class HistoryEvent(models.Model):
    """A department event of the generated history (``generator.history``): the stand-in for the
    monthly pushes (医保 住院结算, 人社 失业登记, 残联 残疾人证, 户籍 死亡, 教育 学籍, 应急 灾情) a
    county accumulates over the years, each with the day it reached the county."""

    dataset = models.ForeignKey(DemoDataset, on_delete=models.PROTECT, related_name="history_events")
    household_no = models.CharField("户编号", max_length=32, db_index=True)
    person_no = models.CharField("人编号", max_length=40, blank=True)
    kind = models.CharField("事件", max_length=16)
    month = models.DateField("发生月份")
    known_on = models.DateField("推送到县日期")
    amount = models.DecimalField("金额/等级", max_digits=12, decimal_places=0, default=0)

    class Meta:
        verbose_name = "演示历史部门事件"
        verbose_name_plural = "演示历史部门事件"
        ordering = ["household_no", "month"]

    def __str__(self) -> str:
        return f"{self.household_no} {self.kind} {self.month:%Y-%m}"


class HistoryLead(models.Model):
    """A lead of the generated history and its verification outcome (confirmed / rejected / open)."""

    dataset = models.ForeignKey(DemoDataset, on_delete=models.PROTECT, related_name="history_leads")
    household_no = models.CharField("户编号", max_length=32, db_index=True)
    opened_on = models.DateField("线索日期")
    outcome = models.CharField("核实结果", max_length=12)
    closed_on = models.DateField("办结日期", null=True, blank=True)

    class Meta:
        verbose_name = "演示历史线索"
        verbose_name_plural = "演示历史线索"
        ordering = ["household_no", "opened_on"]

    def __str__(self) -> str:
        return f"{self.household_no} {self.outcome} {self.opened_on}"
