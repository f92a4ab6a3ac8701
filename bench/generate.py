"""Demo generator throughput and memory: a province-sized registry streamed to Parquet.

    .venv/bin/python bench/generate.py [--persons 1000000] [--province 41] [--workers 1] [--out DIR]

Prints persons/s, peak RSS (this process and the largest worker) and the extrapolation to 10 million
persons. Memory is bounded by design: one county's ID counters plus one chunk of rows per worker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")

import django  # noqa: E402

django.setup()

from fangpin.demo.generator import generate_parquet  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--province", default="41")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-rows", type=int, default=50_000)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="fangpin-gen-"))
    t = time.monotonic()
    counts = generate_parquet(
        a.province,
        persons=a.persons,
        out=out,
        seed=a.seed,
        as_of=dt.date(2026, 11, 23),
        workers=a.workers,
        chunk_rows=a.chunk_rows,
    )
    wall = time.monotonic() - t
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size = sum(f.stat().st_size for f in out.rglob("*.parquet")) / 2**20
    rate = counts["persons"] / wall
    print(f"persons        {counts['persons']:>12,}")
    for k in ("households", "incomes", "member_changes", "monitoring", "defects"):
        print(f"{k:<14} {counts[k]:>12,}")
    print(f"wall           {wall:>12.1f} s   ({a.workers} worker(s))")
    print(f"persons/s      {rate:>12,.0f}")
    print(f"peak RSS       {self_mb:>12.0f} MB (main)  {child_mb:.0f} MB (largest worker)")
    print(f"parquet        {size:>12.1f} MB in {out}")
    print(f"10M persons    {10_000_000 / rate / 60:>12.1f} min (extrapolated, same memory bound)")
    if a.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
