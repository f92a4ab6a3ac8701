"""The main navigation: one entry per area, shown to the roles that can use it.

An area adds its entry here (one line) and its routes in ``urls/<area>.py``. Entries whose URL name is
not routed yet are left out, so an area can be declared before its screens exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from fangpin.accounts.roles import Cap, Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    caps: tuple[str, ...] = ()  # any of these capabilities shows the entry; () = every logged-in user
    roles: tuple[str, ...] = ()  # or any of these roles


NAV: tuple[NavItem, ...] = (
    NavItem("工作台", "web:home"),
    NavItem("户档案", "web:households", caps=(Cap.REGISTRY_VIEW,)),
    NavItem("变更审批", "web:changes", caps=(Cap.CHANGE_APPROVE,)),
    NavItem("识别办理", "web:cases", caps=(Cap.CASE_VILLAGE, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY)),
    NavItem("异议申诉", "web:appeals", caps=(Cap.APPEAL_HANDLE,)),
    NavItem("走访", "web:visits", caps=(Cap.VISIT_LOG,)),
    NavItem("自主申报", "web:self_apply", caps=(Cap.LEAD_SUBMIT,)),
    NavItem("数据导入", "web:imports", caps=(Cap.REGISTRY_IMPORT,)),
    NavItem("部门筛查", "web:screening", caps=(Cap.DEPT_UPLOAD, Cap.SCREEN_RUN)),
    NavItem("统计分析", "web:stats", caps=(Cap.REGISTRY_VIEW,), roles=(Role.LEADER,)),
    NavItem("审计日志", "web:audit", caps=(Cap.AUDIT_VIEW,)),
    NavItem("系统管理", "web:admin_home", caps=(Cap.PARAMS_EDIT,)),
)


def nav_for(user) -> list[dict[str, str]]:
    if not getattr(user, "is_authenticated", False):
        return []
    out = []
    for item in NAV:
        allowed = (
            (not item.caps and not item.roles)
            or user.role in item.roles
            or any(user.can(c) for c in item.caps)
        )
        if not allowed:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        out.append({"label": item.label, "url": url, "name": item.url_name})
    return out
