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
from fangpin.demo.services.setup import assign_demo_helper, demo_tour, install_setup
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
        on = as_of or clock.today()  # the command is the edge: the demo's business date defaults to today
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
                    as_of=on,
                )
                counts = res.counts
                self.stdout.write(f"生成完成，用时 {time.monotonic() - t:.1f} 秒")
                self.stdout.write(f"监测对象纳入：{res.enrolled} 户；帮扶措施 {res.measures} 项")
                for e in res.enrol_errors[:10]:
                    self.stdout.write(f"  ! {e}")
            helped = assign_demo_helper(county=county, on=on)
            self.stdout.write(f"演示帮扶责任人 helper 负责 {helped} 户（只能看到这些户）")
            from fangpin.demo.services.work import demo_work_in_progress

            work = demo_work_in_progress(county=county, on=on)
            if work.get("leads"):
                self.stdout.write(
                    f"演示村的在办事项：{work['leads']}条线索，其中{work['cases']}件已启动识别程序"
                    "（待评议、已逾期、待乡镇审核各一件）"
                )
            elif work.get("refused"):
                self.stdout.write(f"  ! 演示在办事项未生成：{work['reason']}")
            from fangpin.demo.services.risk import demo_risk_scores

            scored = demo_risk_scores(county=county, on=on)
            if scored.get("households"):
                self.stdout.write(
                    f"风险预警：已用风险模型为本县 {scored['households']} 户评分（上月和本月，仅供参考）；"
                    "村干部的“走访”按风险排序并列出原因，户档案显示评分、原因和趋势"
                )
            elif scored.get("refused"):
                self.stdout.write(f"  ! 演示风险评分未生成：{scored['reason']}")
        except DomainError as e:
            raise CommandError(e.message) from e
        labels = {
            "income_records": "条收入记录",
            "member_changes": "条人口变更",
            "planted_defects": "条预置数据问题（见 check_registry）",
        }
        tour = demo_tour(county=county)
        now = tour["counts"]
        self.stdout.write("库中现有（按数据库实际统计）：")
        for label, n in (
            ("户", now["households"]),
            ("人（现有成员）", now["persons"]),
            ("户监测中", now["monitoring_active"]),
            ("户风险已消除", now["monitoring_eliminated"]),
            ("条待核实线索", now["leads_open"]),
            ("件办理中的程序", now["cases_open"]),
            ("次走访记录", now["visits"]),
        ):
            self.stdout.write(f"  {n:>8} {label}")
        for k, label in labels.items():
            if k in counts:
                self.stdout.write(f"  {counts[k]:>8} {label}（生成时）")
        print_logins(self, setup.logins)
        self.print_tour(tour, setup.logins)

    def print_tour(self, tour: dict, logins) -> None:
        pw = {x.username: x.password for x in logins}
        out = self.stdout.write
        cadre_pw = pw.get("village_cadre") or "（密码未改，--reset-passwords 重新生成）"
        out("")
        out(
            f"==> 先试这个账号：village_cadre / {cadre_pw}（{tour['cadre_village']} 的村干部），打开 http://127.0.0.1:8000/"
        )
        out(
            "    工作台：待核实线索、待我办理的环节、逾期事项（红色，注明逾期天数）、本月应走访，每个数字可点开名单"
        )
        if tour["example_household"]:
            out(
                f"    有风险的户：在“户档案”搜索 {tour['example_household'][-6:]}（户编号的任意一段），"
                "看收入与监测线、三保障和时间线，再从“核实处理”启动识别程序"
            )
        out("    走访：手机上用 helper 登录，打开“走访”，断网也能记录，联网后自动同步")
        out(
            "    然后：township_reviewer（乡镇审核，可批量）→ county_reviewer（县级审定）推进程序；"
            "county_admin 导入数据、导出月推进报表、修改政策参数；auditor 查看被拒绝的访问"
        )
