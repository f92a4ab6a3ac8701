"""fangpin demo_county [--county 410506] [--seed 0] [--scale 1.0]"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.demo.models import DemoDataset
from fangpin.demo.services.load import demo_county_generate
from fangpin.demo.services.setup import assign_demo_helper, install_setup
from fangpin.registry.models import Household

from .setup import print_logins


class Command(BaseCommand):
    help = (
        "生成演示县（默认龙安区 410506，种子0，实际规模）：先执行 setup，户档案为空时生成并打印数量与演示账号"
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", default="410506")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument(
            "--as-of", type=dt.date.fromisoformat, default=None, help="数据截止日期（默认今天）"
        )
        parser.add_argument("--reset-passwords", action="store_true", help="为演示账号重新生成密码并打印")

    def handle(self, *args, county: str, seed: int, scale: float, as_of, reset_passwords: bool, **opts):
        try:
            setup = install_setup(county=county, reset_passwords=reset_passwords)
            if Household.objects.filter(village__code__startswith=county).exists():
                ds = DemoDataset.objects.filter(county_code=county).first()
                self.stdout.write(
                    f"{county}已有户档案，跳过生成" + (f"（演示数据 seed={ds.seed}）" if ds else "")
                )
                counts = ds.counts if ds else {}
            else:
                t = time.monotonic()
                res = demo_county_generate(
                    actor=User.objects.get(username="county_admin"),
                    county=county,
                    seed=seed,
                    scale=scale,
                    as_of=as_of,
                )
                counts = res.counts
                self.stdout.write(f"生成完成，用时 {time.monotonic() - t:.1f} 秒")
                self.stdout.write(f"监测对象纳入：{res.enrolled} 户；帮扶措施 {res.measures} 项")
                for e in res.enrol_errors[:10]:
                    self.stdout.write(f"  ! {e}")
            helped = assign_demo_helper(county=county, on=as_of or clock.today())
            self.stdout.write(f"演示帮扶责任人 helper 负责 {helped} 户（只能看到这些户）")
        except DomainError as e:
            raise CommandError(e.message) from e
        labels = {
            "households": "户",
            "persons": "人（现有成员）",
            "persons_left": "人（已减少：死亡、婚出）",
            "income_records": "条收入记录",
            "member_changes": "条人口变更",
            "monitoring_objects": "户监测对象",
            "planted_defects": "条预置数据问题（见 check_registry）",
        }
        for k, label in labels.items():
            if k in counts:
                self.stdout.write(f"  {counts[k]:>8} {label}")
        print_logins(self, setup.logins)
