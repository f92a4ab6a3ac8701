"""fangpin demo_generate --province 41 --persons 10000000 --out DIR [--seed 0] [--workers 2]"""

from __future__ import annotations

import datetime as dt
import resource
import time
from pathlib import Path

from django.core.management.base import BaseCommand

from fangpin.core import clock
from fangpin.demo.generator import generate_parquet


class Command(BaseCommand):
    help = "生成省级规模的演示数据到 Parquet（逐村生成、分块写出，内存有界；不写数据库）"

    def add_arguments(self, parser):
        parser.add_argument("--province", default="41", help="省或县区划前缀，如 41 或 410506")
        parser.add_argument("--persons", type=int, default=10_000_000)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--defect-rate", type=float, default=0.015)

    def handle(self, *args, province, persons, out, seed, workers, as_of, defect_rate, **opts):
        t = time.monotonic()
        counts = generate_parquet(
            province,
            persons=persons,
            out=out,
            seed=seed,
            as_of=as_of or clock.today(),
            workers=workers,
            defect_rate=defect_rate,
        )
        wall = time.monotonic() - t
        rss = max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        for k, v in counts.items():
            self.stdout.write(f"  {k:<15} {v:>12,}")
        self.stdout.write(
            f"用时 {wall:.1f} 秒，{counts.get('persons', 0) / wall:,.0f} 人/秒，单进程峰值内存 {rss / 1024:.0f} MB → {out}"
        )
