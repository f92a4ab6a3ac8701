"""fangpin setup [--county 410506] [--reset-passwords]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError
from fangpin.demo.services.setup import install_setup


def print_logins(cmd: BaseCommand, logins) -> None:
    cmd.stdout.write("演示账号（用户名 / 密码）：")
    for x in logins:
        pw = x.password if x.password else "（已存在，密码未改；--reset-passwords 重新生成）"
        cmd.stdout.write(f"  {x.username:<18} {pw:<16} {x.role} @ {x.region}")


class Command(BaseCommand):
    help = "加载全部行政区划、默认政策参数，并为每个角色创建一个演示账号（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--county", default="410506", help="演示账号所在县（默认 410506 龙安区）")
        parser.add_argument("--reset-passwords", action="store_true", help="为演示账号重新生成密码")

    def handle(self, *args, county: str, reset_passwords: bool, **opts):
        try:
            res = install_setup(county=county, reset_passwords=reset_passwords)
        except DomainError as e:
            raise CommandError(e.message) from e
        self.stdout.write(f"区划 {res.regions} 条；新增政策参数 {res.parameters_created} 条")
        years = "、".join(map(str, res.calendar_years)) or "无"
        self.stdout.write(
            f"工作日历（法定节假日与调休）：已录入 {years} 年（本次新增 {res.calendar_created} 年）；"
            "其他年度按周一至周五计算，请在 系统管理→工作日历 录入"
        )
        print_logins(self, res.logins)
