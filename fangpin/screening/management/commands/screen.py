"""fangpin screen [--month YYYY-MM] [--engine duckdb|spark] [--dept KIND ...] [--background] [--no-facts] --as USER"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError

from ._report import print_run


class Command(BaseCommand):
    help = "运行部门筛查预警：筛查所有尚未筛查过的部门数据（每条只筛一次），立即运行并打印结果；--background 交后台执行"

    def add_arguments(self, parser):
        parser.add_argument("--month", default=None, help="筛查截至月份 YYYY-MM（默认本月）")
        parser.add_argument(
            "--on", default=None, help="业务日期 YYYY-MM-DD（线索日期；默认今天与该月月末中较早者）"
        )
        parser.add_argument("--engine", choices=["duckdb", "spark"], default=None)
        parser.add_argument("--dept", action="append", default=[], help="部门数据类型，如 medical（可多次）")
        parser.add_argument("--as", dest="username", required=True, help="以该用户身份运行")
        parser.add_argument(
            "--background",
            action="store_true",
            help="排队交 Huey 后台执行（run_huey），用 screen_show 查看结果",
        )
        parser.add_argument(
            "--no-facts",
            dest="no_facts",
            action="store_true",
            help="试运行：不把与户档案不一致的部门事实送交冲突规则处理，批次仍保持“未筛查”",
        )

    def handle(self, *args, month, engine, dept, username, background, no_facts=False, on=None, **opts):
        from fangpin.screening.engine.rules import month_bounds
        from fangpin.screening.services.runs import screening_run_start

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在")
        today = clock.today()
        month = month or f"{today:%Y-%m}"
        try:
            day = dt.date.fromisoformat(on) if on else min(today, month_bounds(month)[1])
        except ValueError as exc:
            raise CommandError(f"筛查月份或业务日期格式错误：{exc}") from exc
        try:
            run = screening_run_start(
                actor=user, month=month, engine=engine, departments=dept, background=background,
                record_facts=not no_facts, on=day,
            )  # fmt: skip
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        run.refresh_from_db()
        if background:
            self.stdout.write(
                f"筛查#{run.pk} 已排队（后台执行）；查看结果：fangpin screen_show {run.pk} --as {username}"
            )
            return
        print_run(self, run)
        if run.status == "failed":
            raise CommandError(f"筛查#{run.pk} 失败：{run.error}")
