"""Audit event types in words, for the auditor's screens (审计日志, the auditor's 工作台) and the log's CLI.

The code stays the record (it is what the chain hashes and what a filter matches); the name is how it is
shown. A type not listed here is shown by its code, so a new event is never hidden.
"""

from __future__ import annotations

EVENT_NAMES = {
    "access.denied": "越权访问被拒绝",
    "access.refused": "越权访问被拒绝",
    "accounts.account_locked": "账号被锁定",
    "accounts.demo_user_set": "设置演示账号",
    "accounts.login": "登录成功",
    "accounts.login_failed": "登录失败",
    "accounts.login_refused_locked": "锁定期间尝试登录",
    "accounts.login_throttled": "登录过于频繁被限制",
    "accounts.logout": "退出登录",
    "accounts.otp_enrol": "绑定动态口令",
    "accounts.otp_failed": "动态口令错误",
    "accounts.otp_reset": "重置动态口令",
    "accounts.otp_verified": "动态口令验证通过",
    "accounts.session_expired": "会话超时",
    "accounts.user_change": "修改用户",
    "accounts.user_create": "新建用户",
    "accounts.user_update": "修改用户",
    "api.refused": "接口访问被拒绝",
    "api.token_issue": "签发接口令牌",
    "api.token_revoke": "吊销接口令牌",
    "audit.search": "查询审计日志",
    "audit.securitycheck": "安全检查",
    "core.backup": "数据备份",
    "core.integrity_seal": "决定记录签封",
    "core.integrity_verify": "决定记录核验",
    "core.restore_drill": "恢复演练",
    "demo.generated": "生成演示数据",
    "monitoring.assignment_set": "指定帮扶责任人",
    "monitoring.lead_close": "线索办结",
    "monitoring.lead_submit": "上报风险线索",
    "monitoring.measure_add": "新增帮扶措施",
    "monitoring.measure_update": "修改帮扶措施",
    "monitoring.measures_import": "导入帮扶措施",
    "monitoring.object_confirm": "确认监测对象",
    "monitoring.object_eliminate": "风险消除",
    "monitoring.object_enrol": "纳入监测",
    "monitoring.object_import": "导入监测对象",
    "monitoring.object_remark": "监测对象备注",
    "monitoring.object_reverse": "风险消除回退",
    "monitoring.object_revoke": "撤销监测对象",
    "monitoring.open_work_follow": "跟进在办事项",
    "monitoring.visit_log": "记录走访",
    "monitoring.visit_refused": "走访记录被拒绝",
    "monitoring.visit_sync_refused": "离线走访同步被拒绝",
    "policy.change_refused": "参数修改被拒绝",
    "policy.parameter_set": "修改政策参数",
    "registry.export": "导出户档案",
    "registry.export_download": "下载导出文件",
    "registry.export_job": "导出任务",
    "registry.household_merge": "合户",
    "registry.household_move": "户迁移",
    "registry.household_search": "查询户档案",
    "registry.household_split": "分户",
    "registry.household_update": "修改户信息",
    "registry.household_view": "查看户档案",
    "registry.import": "导入户籍数据",
    "registry.import_confirm": "确认导入",
    "registry.import_mapping_save": "保存导入表头对应",
    "registry.import_report_download": "下载导入问题清单",
    "registry.income_create": "录入收入",
    "registry.income_update": "修改收入",
    "registry.member_add": "新增家庭成员",
    "registry.member_move": "成员迁移",
    "registry.member_remove": "减少家庭成员",
    "registry.person_update": "修改成员信息",
    "registry.search_refused": "查询被拒绝",
    "reports.export": "导出统计报表",
    "risk.scored": "风险评分",
    "risk.trained": "训练风险模型",
    "screening.batch_upload": "上传部门数据",
    "screening.lead_outcome": "部门预警办理结果",
    "screening.link_review": "疑似匹配复核",
    "screening.mapping_save": "保存部门表头对应",
    "screening.rule_update": "修改筛查规则",
    "screening.run_done": "筛查完成",
    "screening.run_start": "开始筛查",
    "security.key_rotate": "更换加密密钥",
    "security.lookup_budget_exceeded": "查询次数超限",
    "security.retention_purge": "按保存期限清理",
    "security.search_throttled": "查询过于频繁被限制",
    "trust.appeal_assign": "分派异议申诉",
    "trust.appeal_decide": "异议申诉办结",
    "trust.appeal_escalate": "异议申诉升级",
    "trust.appeal_lodge": "登记异议申诉",
    "trust.change_approve": "批准变更",
    "trust.change_bulk_approve": "批量批准变更",
    "trust.change_reject": "驳回变更",
    "trust.change_submit": "提交变更申请",
    "trust.consent_record": "登记承诺授权书",
    "trust.consent_withdraw": "撤回承诺授权",
    "trust.disaster_loss": "登记受灾损失",
    "trust.disaster_register": "登记灾害",
    "trust.discrepancy_resolve": "处理数据差异",
    "trust.fact_record": "记录部门事实",
    "trust.household_file_view": "查看户档案",
    "trust.mingbaizhi_view": "查看明白纸",
    "trust.recert_record": "年度复核记录",
    "trust.recert_tasks": "生成年度复核任务",
    "trust.self_application_lookup": "查询自主申报",
    "trust.self_application_refused": "自主申报被拒绝",
    "upload.refused": "上传文件被拒绝",
    "web.access_refused": "越权访问被拒绝",
    "web.input_refused": "输入被拒绝",
    "whatif.export": "导出政策模拟",
    "whatif.view": "查看政策模拟",
    "worklists.delete": "删除工作清单",
    "worklists.save": "保存工作清单",
}

RESULT_NAMES = {"ok": "成功", "refused": "拒绝", "rejected": "驳回"}


def event_name(event_type: str) -> str:
    """The event's name; its code when none is listed. A case's own events (``monitoring.case_<kind>``) are
    named as its timeline names them."""
    if event_type in EVENT_NAMES:
        return EVENT_NAMES[event_type]
    if event_type.startswith("monitoring.case_"):
        from fangpin.trust.timeline import CASE_EVENT_NAMES  # the case timeline's own words

        kind = event_type.removeprefix("monitoring.case_")
        if kind in CASE_EVENT_NAMES:
            return f"程序：{CASE_EVENT_NAMES[kind]}"
    return event_type
