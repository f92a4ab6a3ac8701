"""fangpin demo_department_files --month 2026-11 --out DIR [--county 410506] [--seed 0] [--until DATE]"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.demo.departments import KIND_USERS, demo_department_files


class Command(BaseCommand):
    help = "按月生成演示县的部门数据文件（医保、人社、残联、民政、教育），供部门数据专员用 dept_upload 上传"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="数据月份 YYYY-MM")
        parser.add_argument("--out", required=True, help="输出目录")
        parser.add_argument("--county", default="410506")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--until", type=dt.date.fromisoformat, default=None, help="记录日期截至（默认月末）"
        )

    def handle(self, *args, month: str, out: str, county: str, seed: int, until, **opts):
        if not re.fullmatch(r"20\d{2}-(0[1-9]|1[0-2])", month):
            raise CommandError("--month 格式应为 YYYY-MM")
        res = demo_department_files(county=county, month=month, out=Path(out), seed=seed, until=until)
        for kind, path in res.files.items():
            self.stdout.write(f"{path}  {res.rows[kind]} 行")
            self.stdout.write(
                f"  上传：fangpin dept_upload {kind} {path} --period {month} --as {KIND_USERS[kind]}"
            )
        self.stdout.write(f"预置事件 {len(res.events)} 条（答案清单：{Path(out) / 'manifest.json'}）")
