"""Demo generator throughput and memory: a province-sized registry streamed to Parquet.

    .venv/bin/python bench/generate.py [--persons 20000] [--province 410506] [--workers 1] [--repeat 2]
        [--baseline DIR | --baseline-ref main] [--progress SECONDS]

Runs each generation in its own process (so CPU seconds and peak RSS belong to that run alone) and prints
persons/s, wall, CPU (user+sys of the run's process and its workers), peak RSS and the extrapolation to 10
million persons. With ``--baseline-ref REF`` (a git ref, e.g. ``main``: extracted with ``git archive`` to a
temporary directory) or ``--baseline DIR`` (a source tree of fangpin), the same generation is run with that
code too, interleaved with this tree's (baseline, product, baseline, product …), and both are printed side
by side. Memory is bounded by design: one county's ID counters plus one chunk of rows per worker.
``--progress S`` prints to stderr, at most every S seconds, the counties and persons done so far, persons/s
and the largest worker's peak RSS (reported by each worker as it closes a county) — for long runs (10 M).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(a: argparse.Namespace) -> None:
    """One generation with the code under ``a.code``; prints one JSON line of figures."""
    import datetime as dt
    import resource

    sys.path.insert(0, str(a.code))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")
    import django

    django.setup()
    from fangpin.demo.generator import generate_parquet

    out = Path(tempfile.mkdtemp(prefix="fangpin-gen-"))
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.monotonic()
    seen = {"persons": 0, "rss": 0, "last": t}

    def progress(county: str, counts: dict[str, int], rss_kb: int, done: int, total: int) -> None:
        seen["persons"] += counts.get("persons", 0)
        seen["rss"] = max(seen["rss"], rss_kb)
        now = time.monotonic()
        if a.progress and (now - seen["last"] >= a.progress or done == total):
            seen["last"] = now
            el = now - t
            print(
                f"{time.strftime('%H:%M:%S', time.gmtime())} UTC {el:7.1f} s  {done}/{total} counties  {seen['persons']:,} persons "
                f"({seen['persons'] / el:,.0f}/s)  worker peak RSS {seen['rss'] / 1024:.0f} MB  "
                f"load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )

    counts = generate_parquet(
        a.province,
        persons=a.persons,
        out=out,
        seed=a.seed,
        as_of=dt.date(2026, 11, 23),
        workers=a.workers,
        chunk_rows=a.chunk_rows,
        # a baseline from before the progress callback has none
        **({"progress": progress} if "progress" in inspect.signature(generate_parquet).parameters else {}),
    )
    wall = time.monotonic() - t
    r1, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime) + rc.ru_utime + rc.ru_stime
    size = sum(f.stat().st_size for f in out.rglob("*.parquet")) / 2**20
    shutil.rmtree(out)
    print(
        json.dumps(
            {
                "counts": counts,
                "wall": wall,
                "cpu": cpu,
                "rss_main": r1.ru_maxrss / 1024,
                "rss_worker": rc.ru_maxrss / 1024,
                "rss_worker_reported": seen["rss"] / 1024,
                "mb": size,
            }
        )
    )


def _run(code: Path, a: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--code", str(code)]
    cmd += ["--persons", str(a.persons), "--province", a.province, "--workers", str(a.workers)]
    cmd += ["--seed", str(a.seed), "--chunk-rows", str(a.chunk_rows), "--progress", str(a.progress)]
    # stderr passes through (the progress lines, a traceback); stdout is the child's JSON line
    res = subprocess.run(cmd, cwd=code, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _extract(ref: str) -> Path:
    dest = Path(tempfile.mkdtemp(prefix="fangpin-gen-base-"))
    arch = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(arch.stdout)) as tf:
        tf.extractall(dest, filter="data")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--province", default="410506")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--progress", type=float, default=0, help="print progress every S seconds (stderr)")
    ap.add_argument("--baseline", type=Path, default=None, help="a fangpin source tree to compare with")
    ap.add_argument("--baseline-ref", default=None, help="a git ref to compare with (e.g. main)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(a)
        return
    load0 = os.getloadavg()
    base, tmp = a.baseline, None
    if a.baseline_ref:
        base = tmp = _extract(a.baseline_ref)
    runs: dict[str, list[dict]] = {"product": []}
    if base is not None:
        runs["baseline"] = []
    try:
        for _ in range(a.repeat):
            if base is not None:
                runs["baseline"].append(_run(base, a))
            runs["product"].append(_run(ROOT, a))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp)
    load = os.getloadavg()
    print(f"{a.persons:,} persons asked, province/county {a.province}, {a.workers} worker(s), "
          f"load {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f} before, {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} after")  # fmt: skip
    print(f"{'':<22}" + "".join(f"{k:>16}" for k in runs))
    best = {k: min(v, key=lambda r: r["cpu"]) for k, v in runs.items()}
    first = best["product"]["counts"]
    for t in ("persons", "households", "incomes", "member_changes", "monitoring", "defects"):
        print(f"{t:<22}" + "".join(f"{best[k]['counts'].get(t, 0):>16,}" for k in runs))
    for k, v in runs.items():
        print(
            f"{k:<10} runs  wall "
            + " ".join(f"{r['wall']:.1f}" for r in v)
            + " s   CPU "
            + " ".join(f"{r['cpu']:.1f}" for r in v)
            + " s"
        )
    rows = [
        ("wall s (best-CPU run)", lambda r: f"{r['wall']:.1f}"),
        ("CPU s", lambda r: f"{r['cpu']:.1f}"),
        ("persons/s (wall)", lambda r: f"{r['counts']['persons'] / r['wall']:,.0f}"),
        ("persons/CPU-s", lambda r: f"{r['counts']['persons'] / r['cpu']:,.0f}"),
        ("peak RSS main MB", lambda r: f"{r['rss_main']:.0f}"),
        ("peak RSS worker MB", lambda r: f"{r['rss_worker']:.0f}"),
        ("  as reported by it", lambda r: f"{r.get('rss_worker_reported', 0):.0f}"),
        ("parquet MB", lambda r: f"{r['mb']:.1f}"),
        ("10M persons min (CPU)", lambda r: f"{10_000_000 / (r['counts']['persons'] / r['cpu']) / 60:.1f}"),
        ("10M persons min (wall)", lambda r: f"{10_000_000 / (r['counts']['persons'] / r['wall']) / 60:.1f}"),
    ]
    for label, fn in rows:
        print(f"{label:<22}" + "".join(f"{fn(best[k]):>16}" for k in runs))
    if "baseline" in best:
        b, p = best["baseline"], best["product"]
        print(f"speed-up (CPU)        {b['cpu'] / p['cpu']:>16.2f}x   (wall {b['wall'] / p['wall']:.2f}x)")
        if b["counts"] != first:
            print("note: the row counts differ from the baseline's")
    print(
        "10M (CPU): the CPU seconds per person × 10M, i.e. one free core; 10M (wall): at this run's "
        "workers and load. Same memory bound either way (one chunk of rows per worker)."
    )


if __name__ == "__main__":
    main()
