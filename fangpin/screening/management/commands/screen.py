"""fangpin screen --month 2025-06 [--engine duckdb|spark] [--dept medical ...] [--no-facts] --as USER"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core.errors import DomainError


class Command(BaseCommand):
    help = "运行部门筛查预警（按月）"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--engine", choices=["duckdb", "spark"], default=None)
        parser.add_argument("--dept", action="append", default=[], help="部门数据类型，如 medical（可多次）")
        parser.add_argument("--as", dest="username", required=True, help="以该用户身份运行")
        parser.add_argument("--background", action="store_true", help="只排队，由 Huey 后台执行")
        parser.add_argument(
            "--no-facts",
            dest="no_facts",
            action="store_true",
            help="不把与户档案不一致的部门事实送交冲突规则处理",
        )

    def handle(self, *args, month, engine, dept, username, background, no_facts=False, **opts):
        from fangpin.screening.services.runs import screening_run_start

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在")
        try:
            run = screening_run_start(
                actor=user,
                month=month,
                engine=engine,
                departments=dept,
                run_now=True,
                record_facts=not no_facts,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        run.refresh_from_db()
        self.stdout.write(f"筛查#{run.pk} {run.month} 引擎={run.engine} 状态={run.get_status_display()}")
        for kind, c in (run.counts.get("departments") or {}).items():
            self.stdout.write(
                f"  {kind}: 读取{c.get('rows_read', 0)}行 证件号匹配{c.get('matched_id', 0)} "
                f"概率匹配{c.get('matched_linkage', 0)} 未匹配{c.get('unmatched', 0)} 命中{c.get('hits', 0)}"
            )
        missing = run.counts.get("consent_missing_per_rule") or {}
        for code, n in (run.counts.get("leads_per_rule") or {}).items():
            extra = f"（缺少承诺授权，仅标记 {missing[code]}）" if missing.get(code) else ""
            self.stdout.write(f"  规则 {code}: 推送线索 {n}{extra}")
        f = run.counts.get("facts") or {}
        self.stdout.write(
            f"  部门事实与户档案不一致 {f.get('differing', 0)}：记录 {f.get('recorded', 0)}"
            f"（按规则采用 {f.get('applied', 0)}，待核实 {f.get('pending', 0)}），此前已记录 {f.get('already_recorded', 0)}"
        )
        self.stdout.write(f"  耗时: {run.timings}")
