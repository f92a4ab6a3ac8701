"""fangpin screen_show [RUN_ID] [--reviews] --as USER"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core.errors import DomainError

from ._report import print_run


class Command(BaseCommand):
    help = "查看筛查运行的结果（默认最近一次）；--reviews 列出待复核的疑似匹配"

    def add_arguments(self, parser):
        parser.add_argument("run_id", nargs="?", type=int, default=None)
        parser.add_argument("--reviews", action="store_true", help="列出待复核的疑似匹配（证件号码已脱敏）")
        parser.add_argument("--as", dest="username", required=True)

    def handle(self, *args, run_id, reviews, username, **opts):
        from fangpin.screening.models import ScreeningRun
        from fangpin.screening.selectors import link_review_queue, run_get

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在")
        try:
            if run_id is None:
                latest = ScreeningRun.objects.filter(
                    region__code__startswith=user.scope_prefix or "-"
                ).first()
                if latest is None:
                    raise CommandError("还没有筛查运行")
                run_id = latest.pk
            run = run_get(actor=user, run_id=run_id)
            print_run(self, run)
            if reviews:
                queue = link_review_queue(actor=user)
                self.stdout.write(f"待复核的疑似匹配 {len(queue)} 条：")
                for q in queue:
                    c = q["candidate"]
                    self.stdout.write(
                        f"  #{q['id']} {q['source']} 记录 {q['record'].get('name')} → 档案 {c.get('name')} "
                        f"{c.get('id_number')}  概率 {q['probability']:.3f}  一致：{'、'.join(q['agreeing'])}"
                    )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
