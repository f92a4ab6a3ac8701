"""Value lists of the monitoring lifecycle. Values are stable English identifiers; labels are Chinese."""

from __future__ import annotations

from django.db import models


class LeadChannel(models.TextChoices):
    SELF_APPLICATION = "self_application", "农户自主申报"
    CADRE_VISIT = "cadre_visit", "基层干部排查"
    DEPARTMENT_SCREENING = "department_screening", "部门筛查预警"
    DISASTER = "disaster", "灾害事件"
    APPEAL = "appeal", "信访/申诉"
    IMPORT = "import", "国家系统已有监测对象"
    OTHER = "other", "其他"


class LeadStatus(models.TextChoices):
    OPEN = "open", "待核实"
    IN_CASE = "in_case", "识别程序中"
    CLOSED = "closed", "已办结"


class LeadOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "核实有风险（纳入）"
    NOT_A_RISK = "not_a_risk", "核实无风险"
    DATA_ERROR = "data_error", "数据错误"
    ALREADY_MONITORED = "already_monitored", "已是监测对象"


class Category(models.TextChoices):
    UNSTABLE_EXITED = "脱贫不稳定户", "脱贫不稳定户"
    EDGE = "边缘易致贫户", "边缘易致贫户"
    SUDDEN = "突发严重困难户", "突发严重困难户"


class ObjectStatus(models.TextChoices):
    ACTIVE = "active", "监测中"
    ELIMINATED = "eliminated", "风险已消除"
    REVOKED = "revoked", "不予纳入（绿色通道撤销）"


class ObjectOrigin(models.TextChoices):
    PROCEDURE = "procedure", "识别程序"
    GREEN_CHANNEL = "green_channel", "绿色通道"
    IMPORTED = "imported", "国家系统导入"


class EliminationMethod(models.TextChoices):
    ASSISTED = "帮扶消除", "帮扶消除"
    NATURAL = "自然消除", "自然消除"


class CaseKind(models.TextChoices):
    IDENTIFICATION = "identification", "识别纳入"
    ELIMINATION = "elimination", "风险消除"
    REVERSAL = "reversal", "风险消除回退"


class CaseStatus(models.TextChoices):
    OPEN = "open", "办理中"
    PAUSED = "paused", "暂停（异议处理中）"
    APPROVED = "approved", "已审定"
    REJECTED = "rejected", "不予通过"


class StepStatus(models.TextChoices):
    PENDING = "pending", "未开始"
    ACTIVE = "active", "办理中"
    PAUSED = "paused", "暂停"
    DONE = "done", "已完成"
    REJECTED = "rejected", "不予通过"


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", "计划"
    IN_PROGRESS = "in_progress", "实施中"
    DONE = "done", "已落实"
    STOPPED = "stopped", "已停止"


class AssignmentKind(models.TextChoices):
    CADRE = "cadre", "包户干部（走访）"
    HELPER = "helper", "帮扶责任人"
