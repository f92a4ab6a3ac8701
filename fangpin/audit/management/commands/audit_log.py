"""fangpin audit_log --as AUDITOR [--type T] [--user U] [--result R] [--since D] [--until D] [--object TYPE:ID]
[--household ID] [--region CODE] [--limit N]: the audit log, newest first (the search itself is audited)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.audit.selectors import AuditFilter, audit_search, event_row
from fangpin.core.errors import DomainError


class Command(BaseCommand):
    help = "查询审计日志（须安全审计员身份；查询本身记入审计）"

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="actor", required=True, help="安全审计员用户名")
        parser.add_argument("--type", default="", help="事件类型；以“.”结尾按前缀，如 accounts.")
        parser.add_argument("--user", default="", help="操作人用户名")
        parser.add_argument("--result", default="", help="ok / refused / rejected …")
        parser.add_argument("--object", default="", help="对象 类型:编号，如 registry.household:12")
        parser.add_argument("--household", type=int, default=None)
        parser.add_argument("--region", default="", help="区划代码前缀")
        parser.add_argument("--since", default="", help="起始日期 YYYY-MM-DD")
        parser.add_argument("--until", default="", help="截止日期 YYYY-MM-DD（含）")
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args, **o):
        actor = User.objects.filter(username=o["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{o['actor']}”不存在或已停用")
        otype, _, oid = o["object"].partition(":")
        try:
            f = AuditFilter(
                event_type=o["type"],
                username=o["user"],
                result=o["result"],
                object_type=otype,
                object_id=oid,
                household_id=o["household"],
                region_prefix=o["region"],
                since=dt.date.fromisoformat(o["since"]) if o["since"] else None,
                until=dt.date.fromisoformat(o["until"]) if o["until"] else None,
            )
            rows = [event_row(ev) for ev in audit_search(actor=actor, filters=f)[: o["limit"]]]
        except ValueError:
            raise CommandError("日期格式应为 YYYY-MM-DD") from None
        except DomainError as e:
            raise CommandError(e.message) from None
        for r in rows:
            self.stdout.write(
                "\t".join(
                    [
                        r["seq"],
                        r["at"],
                        r["actor"],
                        r["event"],
                        r["object"],
                        r["result"],
                        r["reason"],
                        r["data"],
                    ]
                )
            )
        self.stdout.write(f"共{len(rows)}条")
