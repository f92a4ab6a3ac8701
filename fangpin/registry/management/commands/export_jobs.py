"""fangpin export_jobs create|list|status|fetch --as USER — the 下载中心 from the command line.

    export_jobs create --as USER [--q TEXT] [--region CODE] [--household-type T] [--unmasked] [--run] [--on DATE]
    export_jobs list --as USER
    export_jobs status ID --as USER
    export_jobs fetch ID OUT.xlsx --as USER
    export_jobs sweep [--minutes N] [--at YYYY-MM-DDTHH:MM]

``create`` queues the export of a filtered list as a background job (``--run``: write it now, in this
process, e.g. without a Huey consumer); ``fetch`` writes the decrypted workbook (checked against its SHA-256,
audited) for the user who asked for it only; ``sweep`` marks failed, with a Chinese reason and an audit event,
the jobs queued or running longer than ``--minutes`` (default ``registry.export.stale_minutes``, 30) before
``--at`` (default now) — a consumer that died leaves them 排队中 for ever otherwise (the Huey job
``export_jobs_sweep_periodic`` does the same every 10 minutes).
"""

from __future__ import annotations

import datetime as dt
import shutil

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.services import export_jobs as svc

from ._actor import command_actor


class Command(BaseCommand):
    help = "下载中心：后台导出任务（提交、查看、下载）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "status", "fetch", "sweep"])
        parser.add_argument("job", nargs="?", type=int, help="任务编号（status / fetch）")
        parser.add_argument("out", nargs="?", help="下载到的文件（fetch）")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--q", default="", help="与户列表相同的检索词")
        parser.add_argument("--region", default="", help="区划代码（乡镇或村）")
        parser.add_argument("--household-type", default="")
        parser.add_argument("--unmasked", action="store_true", help="明文证件号码和电话（须有权限）")
        parser.add_argument("--run", action="store_true", help="在本进程中立即生成（不经后台队列）")
        parser.add_argument("--on", default=None, help="业务日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--minutes", type=int, default=None, help="超过多少分钟未完成视为中断（sweep）")
        parser.add_argument("--at", default=None, help="按该时刻判断 YYYY-MM-DDTHH:MM（sweep，默认现在）")

    def handle(self, *args, **opts):
        if opts["action"] == "sweep":
            try:
                return self._sweep(opts)
            except DomainError as e:
                raise CommandError(e.message) from None
        actor = command_actor(opts["username"])
        try:
            getattr(self, f"_{opts['action']}")(actor, opts)
        except DomainError as e:
            raise CommandError(e.message) from None

    def _sweep(self, opts) -> None:
        from django.utils import timezone

        from fangpin.accounts.actors import system_actor

        now = timezone.now()
        if opts["at"]:
            try:
                now = dt.datetime.fromisoformat(opts["at"])
            except ValueError:
                raise CommandError(f"--at “{opts['at']}”不是有效时刻，应为YYYY-MM-DDTHH:MM") from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        ids = svc.export_job_sweep(actor=system_actor("export_jobs_sweep"), now=now, minutes=opts["minutes"])
        self.stdout.write(
            f"已将{len(ids)}个中断的导出任务标记为失败"
            + (f"：{'、'.join(f'#{i}' for i in ids)}" if ids else "")
        )

    def _line(self, j) -> None:
        rows = j.rows if j.status in ("done", "purged") else f"约{j.estimated_rows}"
        self.stdout.write(
            f"#{j.pk}\t{j.get_status_display()}\t{j.created_at:%Y-%m-%d %H:%M}\t{rows}行\t"
            f"{'明文' if j.unmasked else '脱敏'}\t{j.filters or '全部'}\t{j.message}"
        )

    def _create(self, actor, opts) -> None:
        from fangpin.registry import hooks

        on = dt.date.fromisoformat(opts["on"]) if opts["on"] else clock.today()
        qs, params = hooks.monitoring().household_search(
            actor=actor,
            params={"q": opts["q"], "region": opts["region"], "household_type": opts["household_type"]},
            on=on,
        )
        job = svc.export_job_create(
            actor=actor, on=on, filters=params, region_code=params.get("region") or None,
            unmasked=opts["unmasked"], estimated_rows=svc.export_estimate(qs), via="cli", queue=not opts["run"],
        )  # fmt: skip
        if opts["run"]:
            job = svc.export_job_run(job.pk)
        job.refresh_from_db()
        self._line(job)

    def _list(self, actor, opts) -> None:
        for j in svc.export_job_list(actor=actor):
            self._line(j)

    def _job(self, opts) -> int:
        if not opts["job"]:
            raise CommandError("请给出任务编号")
        return opts["job"]

    def _status(self, actor, opts) -> None:
        self._line(svc.export_job_get(actor=actor, job_id=self._job(opts)))

    def _fetch(self, actor, opts) -> None:
        if not opts["out"]:
            raise CommandError("请给出下载到的文件名（.xlsx）")
        job, fh = svc.export_job_open(actor=actor, job_id=self._job(opts))
        with fh, open(opts["out"], "wb") as dst:
            shutil.copyfileobj(fh, dst)
        self.stdout.write(
            f"已下载{job.rows}行（{job.households}户）到 {opts['out']}  sha256={job.sha256[:16]}…"
        )
