"""fangpin export_jobs create|list|status|fetch --as USER — the 下载中心 from the command line.

    export_jobs create --as USER [--q TEXT] [--region CODE] [--household-type T] [--unmasked] [--run] [--on DATE]
    export_jobs list --as USER
    export_jobs status ID --as USER
    export_jobs fetch ID OUT.xlsx --as USER

``create`` queues the export of a filtered list as a background job (``--run``: write it now, in this
process, e.g. without a Huey consumer); ``fetch`` writes the decrypted workbook (checked against its SHA-256,
audited) for the user who asked for it only.
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
        parser.add_argument("action", choices=["create", "list", "status", "fetch"])
        parser.add_argument("job", nargs="?", type=int, help="任务编号（status / fetch）")
        parser.add_argument("out", nargs="?", help="下载到的文件（fetch）")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--q", default="", help="与户列表相同的检索词")
        parser.add_argument("--region", default="", help="区划代码（乡镇或村）")
        parser.add_argument("--household-type", default="")
        parser.add_argument("--unmasked", action="store_true", help="明文证件号码和电话（须有权限）")
        parser.add_argument("--run", action="store_true", help="在本进程中立即生成（不经后台队列）")
        parser.add_argument("--on", default=None, help="业务日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **opts):
        actor = command_actor(opts["username"])
        try:
            getattr(self, f"_{opts['action']}")(actor, opts)
        except DomainError as e:
            raise CommandError(e.message) from None

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
