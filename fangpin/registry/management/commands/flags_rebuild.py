"""fangpin flags_rebuild [--on DATE] [--region CODE] [--dirty] — recompute the household list's maintained
flags (every household, or with ``--dirty`` only the rows changes marked: the background refresh's work)."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.actors import system_actor
from fangpin.core import clock
from fangpin.registry.flags import household_flags_rebuild, household_flags_refresh_dirty


class Command(BaseCommand):
    help = "重新计算户列表的筛选标记（低于监测收入线、有逻辑校验问题），每晚由后台任务执行"

    def add_arguments(self, parser):
        parser.add_argument("--on", type=dt.date.fromisoformat, default=None, help="业务日期（默认今天）")
        parser.add_argument("--region", default=None, help="只算该区划代码下的户")
        parser.add_argument(
            "--dirty", action="store_true", help="只算因数据变更待更新的户（后台任务在每次变更提交后执行）"
        )

    def handle(self, *args, on, region, dirty, **opts):
        on = on or clock.today()
        t = time.monotonic()
        if dirty:
            if region:
                raise CommandError("--dirty 计算全部待更新的户，不能与 --region 同用")
            n = household_flags_refresh_dirty(on=on)
            self.stdout.write(f"已更新{n}户待更新的筛选标记（{on}），用时 {time.monotonic() - t:.1f} 秒")
            return

        def progress(done: int, total: int) -> None:
            if done % 20000 < 2000 or done == total:
                self.stdout.write(f"  {done}/{total}")

        n = household_flags_rebuild(
            actor=system_actor("flags_rebuild"), on=on, region_code=region, progress=progress
        )
        self.stdout.write(f"已重新计算{n}户的筛选标记（{on}），用时 {time.monotonic() - t:.1f} 秒")
