"""A trained risk model (one version per training) and the scores it gave, per household and month.

A score is advice: nothing here changes a household, a lead or a monitoring object."""

from __future__ import annotations

from django.db import models


class RiskModel(models.Model):
    county_code = models.CharField("县级区划代码", max_length=6, db_index=True)
    trained_through = models.DateField("训练数据截至（不含）")
    horizon_months = models.PositiveSmallIntegerField("预测未来月数")
    features = models.JSONField("输入特征", default=list)
    booster = models.TextField("模型（LightGBM 文本）")
    rows = models.PositiveIntegerField("训练样本数", default=0)
    positives = models.PositiveIntegerField("正样本数", default=0)
    months = models.JSONField("训练月份", default=list)
    created_by = models.CharField("训练者", max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "风险预警模型"
        verbose_name_plural = "风险预警模型"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"v{self.pk} {self.county_code} <{self.trained_through:%Y-%m}"

    @property
    def version(self) -> str:
        return f"v{self.pk}（{self.trained_through:%Y-%m}前数据）"


class RiskScore(models.Model):
    model = models.ForeignKey(RiskModel, on_delete=models.PROTECT, related_name="scores")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    month = models.DateField("评分月份", db_index=True)
    score = models.FloatField("风险概率")
    rank = models.PositiveIntegerField("全县排名")
    in_capacity = models.BooleanField("在走访能力范围内（前k%）", default=False)
    reasons = models.JSONField("原因", default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "风险评分"
        verbose_name_plural = "风险评分"
        constraints = [
            models.UniqueConstraint(fields=["household", "month", "model"], name="risk_score_once")
        ]
        indexes = [models.Index(fields=["month", "rank"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m} {self.score:.3f}"


class ScoreJobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "运行中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


class RiskScoreJob(models.Model):
    """One scoring of a county for a month (``fangpin risk_score``; in the background through Huey): its
    progress while it runs, the households it scored, the error if it failed."""

    county_code = models.CharField("县级区划代码", max_length=6)
    month = models.DateField("评分月份")
    model = models.ForeignKey(RiskModel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        "状态", max_length=10, choices=ScoreJobStatus.choices, default=ScoreJobStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField("进度%", default=0)
    progress_note = models.CharField("进度说明", max_length=200, blank=True)
    households = models.PositiveIntegerField("已评分户数", default=0)
    timings = models.JSONField("耗时（秒）", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    started_by = models.CharField("发起者", max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "风险评分任务"
        verbose_name_plural = "风险评分任务"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"评分#{self.pk} {self.county_code} {self.month:%Y-%m} {self.get_status_display()}"
