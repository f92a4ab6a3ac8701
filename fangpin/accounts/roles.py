"""Roles and what each may do. One table, read by services (never by templates alone)."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县级管理员"
    COUNTY_REVIEWER = "county_reviewer", "县级审定人"
    TOWNSHIP_REVIEWER = "township_reviewer", "乡镇审核人"
    VILLAGE_CADRE = "village_cadre", "村级干部"
    HELPER = "helper", "帮扶责任人"
    DEPT_OFFICER = "dept_officer", "部门数据专员"
    LEADER = "leader", "领导（只读）"
    AUDITOR = "auditor", "安全审计员"


class Cap(models.TextChoices):
    """Capabilities: the verbs services check."""

    REGISTRY_VIEW = "registry.view", "查看户档案"
    REGISTRY_EDIT = "registry.edit", "修改户档案"
    REGISTRY_IMPORT = "registry.import", "导入数据"
    REGISTRY_EXPORT = "registry.export", "导出数据"
    EXPORT_UNMASKED = "registry.export_unmasked", "导出明文身份证号"
    PARAMS_EDIT = "policy.edit", "修改政策参数"
    LEAD_SUBMIT = "monitoring.lead_submit", "提交风险线索"
    VISIT_LOG = "monitoring.visit_log", "记录走访"
    CASE_VILLAGE = "monitoring.case_village", "村级办理（核查、评议、公示）"
    CASE_TOWNSHIP = "monitoring.case_township", "乡镇审核"
    CASE_COUNTY = "monitoring.case_county", "县级审定"
    MEASURE_EDIT = "monitoring.measure_edit", "维护帮扶措施"
    DEPT_UPLOAD = "screening.upload", "上传部门数据"
    SCREEN_RUN = "screening.run", "运行部门筛查"
    CHANGE_APPROVE = "trust.change_approve", "审批变更申请"
    APPEAL_HANDLE = "trust.appeal_handle", "办理异议申诉"
    AUDIT_VIEW = "audit.view", "查看审计日志"
    ACCOUNTS_ADMIN = "accounts.admin", "管理账号（重置动态口令）"


_ALL_REGISTRY = {Cap.REGISTRY_VIEW, Cap.REGISTRY_EDIT, Cap.REGISTRY_EXPORT}

CAPABILITIES: dict[str, set[str]] = {
    Role.COUNTY_ADMIN: _ALL_REGISTRY
    | {
        Cap.REGISTRY_IMPORT,
        Cap.EXPORT_UNMASKED,
        Cap.PARAMS_EDIT,
        Cap.LEAD_SUBMIT,
        Cap.SCREEN_RUN,
        Cap.MEASURE_EDIT,
        Cap.CHANGE_APPROVE,
        Cap.APPEAL_HANDLE,
        Cap.CASE_COUNTY,
        Cap.ACCOUNTS_ADMIN,
    },
    Role.COUNTY_REVIEWER: _ALL_REGISTRY
    | {Cap.CASE_COUNTY, Cap.CHANGE_APPROVE, Cap.APPEAL_HANDLE, Cap.SCREEN_RUN},
    Role.TOWNSHIP_REVIEWER: _ALL_REGISTRY
    | {Cap.CASE_TOWNSHIP, Cap.CHANGE_APPROVE, Cap.APPEAL_HANDLE, Cap.LEAD_SUBMIT, Cap.MEASURE_EDIT},
    Role.VILLAGE_CADRE: _ALL_REGISTRY | {Cap.LEAD_SUBMIT, Cap.VISIT_LOG, Cap.CASE_VILLAGE, Cap.MEASURE_EDIT},
    Role.HELPER: {Cap.REGISTRY_VIEW, Cap.LEAD_SUBMIT, Cap.VISIT_LOG, Cap.MEASURE_EDIT},
    Role.DEPT_OFFICER: {Cap.DEPT_UPLOAD},
    Role.LEADER: {Cap.REGISTRY_VIEW},
    Role.AUDITOR: {Cap.AUDIT_VIEW},
}


def role_can(role: str, cap: str) -> bool:
    return cap in CAPABILITIES.get(role, set())
