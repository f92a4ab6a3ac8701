"""Department batches, screening rules, runs, hits and link reviews.

- ``DeptBatch``: one upload = one immutable, versioned batch (rows in Parquet under FANGPIN_FILES_DIR);
  a new upload of the same kind and month gets the next version, older versions stay for the record.
- ``BatchIssue``: rows rejected (errors) or kept with a warning (ID missing/unusable), with reasons.
- ``ScreeningRule``: a rule as data, compiled to SQL by ``engine.rules``.
- ``ScreeningRun`` / ``ScreeningHit``: one monthly run with its counts, parameter refs and timings;
  one hit per (rule, person) with the evidence and the lead it produced, and the lead's outcome.
- ``LinkReview``: an uncertain probabilistic link, and the reviewer's decision reused by later runs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DeptBatch(models.Model):
    kind = models.CharField("数据类型", max_length=20, db_index=True)
    department = models.CharField("部门", max_length=32)
    period = models.CharField("数据月份", max_length=7, help_text="YYYY-MM")
    version = models.PositiveIntegerField("版本", default=1)
    filename = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("文件SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间")
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_ok = models.PositiveIntegerField("入库行数", default=0)
    rows_rejected = models.PositiveIntegerField("退回行数", default=0)
    rows_id_problem = models.PositiveIntegerField("证件号码待匹配行数", default=0)
    header_row = models.PositiveIntegerField("表头行", default=1)
    mapping = models.JSONField("列映射", default=dict)
    parquet_path = models.CharField("Parquet 文件", max_length=500)
    on_behalf = models.BooleanField(
        "代部门上传", default=False, help_text="县管理员代该部门上传（uploaded_by 为代传人）"
    )
    # Exactly once: the run that screened this batch's records (NULL = not screened yet).
    screened_run = models.ForeignKey(
        "ScreeningRun", null=True, blank=True, on_delete=models.PROTECT, related_name="screened_batches"
    )
    event_min = models.DateField("最早业务日期", null=True, blank=True)
    event_max = models.DateField("最晚业务日期", null=True, blank=True)

    class Meta:
        verbose_name = "部门数据批次"
        verbose_name_plural = "部门数据批次"
        constraints = [
            models.UniqueConstraint(fields=["kind", "period", "version"], name="screening_batch_version")
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.period} v{self.version}"


class DeptMapping(models.Model):
    """A department's answer to the mapping question for one source: which of its headers is which
    canonical column (or "" = this layout has no such column). Reused on the department's next upload."""

    department = models.CharField("部门", max_length=32)
    kind = models.CharField("数据类型", max_length=20)
    columns = models.JSONField(
        "列对应关系", default=dict, help_text='{"settle_date": "出院时间", "id_number": ""}'
    )
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField("保存时间")
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "部门数据列映射"
        verbose_name_plural = "部门数据列映射"
        constraints = [
            models.UniqueConstraint(fields=["department", "kind"], name="screening_mapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.kind} v{self.version}"


class BatchIssue(models.Model):
    ERROR, WARNING = "error", "warning"
    batch = models.ForeignKey(DeptBatch, on_delete=models.PROTECT, related_name="issues")
    severity = models.CharField(max_length=8, choices=[(ERROR, "退回"), (WARNING, "提示")])
    row = models.PositiveIntegerField("行号")
    column = models.CharField("列", max_length=64)
    message = models.CharField("原因", max_length=300)
    value = models.CharField("原值", max_length=200, blank=True)
    code = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = "批次问题行"
        verbose_name_plural = "批次问题行"
        ordering = ["batch", "row", "id"]

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}：{self.message}"


class Window(models.TextChoices):
    MONTH = "month", "当月"
    YEAR_TO_DATE = "year_to_date", "当年累计"
    MONTHS = "months", "近N个月"


class AppliesTo(models.TextChoices):
    ALL = "all", "全部建档立卡人口"
    EXITED = "exited", "脱贫人口"
    MONITORED = "monitored", "监测对象"
    EXITED_OR_MONITORED = "exited_or_monitored", "脱贫人口和监测对象"
    OTHERS = "others", "其他农户（非脱贫、非监测）"
    NOT_MONITORED = "not_monitored", "非监测对象"


class ConditionKind(models.TextChoices):
    SUM_AT_LEAST = "sum_at_least", "窗口内金额合计≥阈值"
    MAX_ABOVE = "max_above", "窗口内单笔金额>阈值"
    VALUE_ABOVE = "value_above", "窗口内数值>阈值"
    VALUE_IN = "value_in", "窗口内出现指定取值"
    ANY_RECORD = "any_record", "窗口内出现记录"


class Severity(models.TextChoices):
    HIGH = "high", "高"
    MEDIUM = "medium", "中"
    LOW = "low", "低"


class ScreeningRule(models.Model):
    code = models.CharField("规则编码", max_length=40, unique=True)
    source = models.CharField("部门数据类型", max_length=20, help_text="sources.SOURCES 的键，如 medical")
    title = models.CharField("规则名称", max_length=100)
    condition_kind = models.CharField("条件类型", max_length=20, choices=ConditionKind.choices)
    condition = models.JSONField(
        "条件参数",
        default=dict,
        blank=True,
        help_text='如 {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}}',
    )
    person_conditions = models.JSONField(
        "人员条件",
        default=list,
        blank=True,
        help_text='如 [{"kind": "age_between", "min_key": "...", "max_key": "..."}]',
    )
    window = models.CharField("时间窗口", max_length=16, choices=Window.choices, default=Window.MONTH)
    window_months = models.PositiveSmallIntegerField("近N个月", default=1)
    threshold_key = models.CharField("阈值参数", max_length=80, blank=True)
    applies_to = models.CharField("适用对象", max_length=24, choices=AppliesTo.choices, default=AppliesTo.ALL)
    risk_types = models.JSONField("提示风险类型", default=list, blank=True)
    severity = models.CharField("严重程度", max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    consent_scope = models.CharField(
        "需授权范围",
        max_length=20,
        blank=True,
        help_text="资产、收入比对须农户承诺授权书覆盖的范围（consent.scopes，如 assets）；空=无需授权",
    )
    active = models.BooleanField("启用", default=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "筛查规则"
        verbose_name_plural = "筛查规则"
        ordering = ["source", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "运行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ScreeningRun(models.Model):
    month = models.CharField("筛查月份", max_length=7)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    engine = models.CharField("计算引擎", max_length=10, default="duckdb")
    departments = models.JSONField("部门数据类型", default=list, blank=True)
    record_facts = models.BooleanField(
        "比对户档案事实", default=True, help_text="与户档案不一致的部门事实按冲突规则采用或转为待核实差异"
    )
    as_of = models.DateField(
        "业务日期", null=True, blank=True, help_text="线索按此日期推送（默认筛查月份月末）"
    )
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField("进度%", default=0)
    progress_note = models.CharField("进度说明", max_length=200, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ruleset_version = models.CharField("规则集版本", max_length=64, blank=True)
    rules = models.JSONField("规则快照", default=list, blank=True)
    params = models.JSONField("参数引用", default=list, blank=True)
    batches = models.JSONField("使用的批次", default=list, blank=True)
    counts = models.JSONField("统计", default=dict, blank=True)
    timings = models.JSONField("耗时（秒）", default=dict, blank=True)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = "筛查运行"
        verbose_name_plural = "筛查运行"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"筛查#{self.pk} {self.month} {self.engine}"


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", "核实属实"
    NOT_A_RISK = "not_a_risk", "不构成风险"
    DATA_ERROR = "data_error", "数据错误"


class ScreeningHit(models.Model):
    run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="hits")
    rule = models.ForeignKey(ScreeningRule, on_delete=models.PROTECT, related_name="hits")
    rule_code = models.CharField(max_length=40)
    source = models.CharField(max_length=20)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    value = models.FloatField("命中值", null=True, blank=True)
    threshold = models.FloatField("阈值", null=True, blank=True)
    match_method = models.CharField("匹配方式", max_length=10)  # id / linkage
    match_probability = models.FloatField("匹配概率", default=1.0)
    evidence = models.JSONField("证据", default=dict)
    lead_id = models.BigIntegerField("线索ID", null=True, blank=True)
    lead_result = models.CharField("线索推送结果", max_length=40, blank=True)
    consent_missing = models.BooleanField("缺少承诺授权", default=False, db_index=True)
    outcome = models.CharField("核实结果", max_length=12, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "筛查命中"
        verbose_name_plural = "筛查命中"
        indexes = [models.Index(fields=["run", "rule_code"]), models.Index(fields=["lead_id"])]

    def __str__(self) -> str:
        return f"{self.rule_code} {self.person_id}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "待复核"
    ACCEPTED = "accepted", "确认同一人"
    REJECTED = "rejected", "不是同一人"


class LinkReview(models.Model):
    source = models.CharField(max_length=20)
    fingerprint = models.CharField("记录指纹", max_length=64, db_index=True)
    record = models.JSONField("部门记录", default=dict)
    candidate = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField("匹配概率")
    agreeing = models.JSONField("一致字段", default=list)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    first_run = models.ForeignKey(ScreeningRun, null=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "疑似匹配复核"
        verbose_name_plural = "疑似匹配复核"
        constraints = [
            models.UniqueConstraint(fields=["fingerprint", "candidate"], name="screening_review_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.candidate_id} ({self.probability:.3f})"
