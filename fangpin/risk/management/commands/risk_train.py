"""fangpin risk_train [--county 410506] [--month YYYY-MM] [--span 36] --as USER"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError

from ._common import county_of, month_or_error, user_or_error


class Command(BaseCommand):
    help = "训练风险预警模型：只用该月之前结果已知的月份（时间切分），保存为新版本"

    def add_arguments(self, parser):
        parser.add_argument("--county", default=None, help="县级区划代码（默认用户所在县）")
        parser.add_argument("--month", default=None, help="训练截至月份 YYYY-MM（不含；默认本月）")
        parser.add_argument(
            "--span", type=int, default=36, help="最多使用多少个训练月份（默认36；越少越快，样本越少）"
        )
        parser.add_argument("--as", dest="username", required=True, help="以该用户身份运行")

    def handle(self, *args, county, month, span, username, **opts):
        from fangpin.risk.services import risk_train

        user = user_or_error(username)
        county = county_of(user, county)
        on = month_or_error(month)
        if span < 1:
            raise CommandError("--span 须为正整数（训练月份数）")
        try:
            rm = risk_train(actor=user, county=county, on=on, span=span)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"风险模型 {rm.version}：{len(rm.months)} 个训练月份，{rm.rows} 条样本，{rm.positives} 个正样本，"
            f"预测未来 {rm.horizon_months} 个月"
        )
