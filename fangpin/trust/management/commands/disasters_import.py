from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.trust.services.disasters import disasters_import


class Command(BaseCommand):
    help = "导入应急管理部门灾害事件CSV（灾害类型,发生日期,受灾村代码,灾情等级,灾情描述），生成灾后走访待办"

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--as", "--user", dest="user", default="", help="登记人用户名（缺省为系统）")

    def handle(self, *args, **opts):
        actor = User.objects.filter(username=opts["user"]).first() if opts["user"] else None
        if opts["user"] and actor is None:
            raise CommandError(f"用户 {opts['user']} 不存在")
        events, errors = disasters_import(actor=actor, path=Path(opts["path"]))
        for e in events:
            self.stdout.write(f"已登记 {e.number} {e.kind} {e.occurred_on}")
        for err in errors:
            self.stderr.write(f"第{err.row}行：{err.message}")
        if errors and not events:
            raise CommandError("没有登记任何灾害事件")
