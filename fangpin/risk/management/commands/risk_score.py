"""fangpin risk_score [--county 410506] [--month YYYY-MM] [--model ID] [--background] --as USER
fangpin risk_score --job ID --as USER   (a background job's progress)"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError

from ._common import county_of, month_or_error, user_or_error


class Command(BaseCommand):
    help = "全县风险评分（建议，不作任何认定）：按户、按月保存评分、排名和原因；--background 交 Huey 后台执行"

    def add_arguments(self, parser):
        parser.add_argument("--county", default=None, help="县级区划代码（默认用户所在县）")
        parser.add_argument("--month", default=None, help="评分月份 YYYY-MM（默认本月）")
        parser.add_argument("--model", type=int, default=None, help="模型编号（默认该月之前最新训练的模型）")
        parser.add_argument("--background", action="store_true", help="排队交 Huey 后台执行（run_huey）")
        parser.add_argument(
            "--job", type=int, default=None, help="查看评分任务的进度（--background 给出的任务号）"
        )
        parser.add_argument("--top", type=int, default=10, help="打印前N户（默认10）")
        parser.add_argument("--as", dest="username", required=True, help="以该用户身份运行")

    def handle(self, *args, county, month, model, background, job, top, username, **opts):
        from fangpin.accounts.roles import Cap
        from fangpin.accounts.scope import require
        from fangpin.risk.models import RiskModel, RiskScoreJob
        from fangpin.risk.selectors import county_top
        from fangpin.risk.services import risk_score, risk_score_enqueue

        user = user_or_error(username)
        if job is not None:
            require(user, Cap.SCREEN_RUN)
            j = RiskScoreJob.objects.filter(pk=job).first()
            if j is None:
                raise CommandError(f"评分任务 {job} 不存在")
            self.stdout.write(
                f"评分任务#{j.pk} {j.county_code} {j.month:%Y-%m}：{j.get_status_display()} {j.progress}% "
                f"{j.progress_note}" + (f"，已评分 {j.households} 户" if j.households else "")
            )
            if j.timings:
                self.stdout.write("  耗时（秒）：" + "，".join(f"{k} {v}" for k, v in j.timings.items()))
            if j.error:
                self.stdout.write(f"  错误：{j.error}")
            return
        county = county_of(user, county)
        m = month_or_error(month)
        rm = RiskModel.objects.filter(pk=model, county_code=county).first() if model else None
        if model and rm is None:
            raise CommandError(f"模型 {model} 不存在或不属于该县")
        if background:
            try:
                j = risk_score_enqueue(actor=user, county=county, month=m, model=rm)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(
                f"{county} {m:%Y-%m} 风险评分已排队：任务#{j.pk}（后台执行；进度：fangpin risk_score --job {j.pk}）"
            )
            return
        try:
            n = risk_score(actor=user, county=county, month=m, model=rm)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{county} {m:%Y-%m}：已评分 {n} 户（评分仅供参考，不作纳入、否决或消除的认定）")
        for s in county_top(actor=user, county=county, month=m, limit=top):
            self.stdout.write(
                f"  {s.rank:>5} {s.household.household_no} {s.score:.3f} {'；'.join(s.reasons)}"
            )
