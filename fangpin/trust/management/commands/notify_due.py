from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from fangpin.core import clock
from fangpin.trust.services.notifications import notify_due


class Command(BaseCommand):
    help = "向有待办或逾期事项的用户发送每日提醒（经配置的消息通道）"

    def add_arguments(self, parser):
        parser.add_argument("--on", default="")

    def handle(self, *args, **opts):
        on = dt.date.fromisoformat(opts["on"]) if opts["on"] else clock.today()
        self.stdout.write(f"发送提醒 {notify_due(on=on)} 条")
