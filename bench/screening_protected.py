"""Benchmark: the screening month on department files with clear IDs vs files as the upload now stores them
(issue #17: ``id_number`` = the ID's blind index, ``id_raw`` an SM4-GCM token, ``screening.protect``), through
the product path (``run_month`` on DuckDB), interleaved round by round.

usage: python bench/screening_protected.py [--persons 100000] [--settlements 1000000] [--repeat 3]
                                            [--dir var/bench/screen]
Generates the files of ``bench/screening_month.py`` once, then a protected copy: every department file (and
its linkage side file) through ``protect_frame``, the registry extract's ``join_key`` = the blind index, as
``screening.registry_export`` writes it. Prints wall, query and CPU seconds per round, the medians and the
ratio protected/clear; the leads must be the same.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def protect_dir(src: Path, dst: Path) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.test")
    django.setup()
    import polars as pl

    from fangpin.core import crypto
    from fangpin.screening.protect import METADATA, protect_frame

    dst.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    persons = pl.read_parquet(src / "persons.parquet")
    persons = persons.with_columns(
        join_key=pl.Series([crypto.blind_index(v, "id_number") for v in persons["id_number"].to_list()])
    )
    persons.write_parquet(dst / "persons.parquet", row_group_size=1_000_000)
    for p in sorted(src.glob("*.parquet")):
        if p.name == "persons.parquet":
            continue
        df = protect_frame(pl.read_parquet(p))
        df.write_parquet(dst / p.name, metadata=METADATA, row_group_size=1_000_000)
    print(f"protected copy in {time.perf_counter() - t:.1f}s", flush=True)


def main() -> None:
    import screening_month as sm

    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--settlements", type=int, default=1_000_000)
    ap.add_argument("--mistyped", type=float, default=0.001)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=str(ROOT / "var" / "bench" / "screen"))
    a = ap.parse_args()
    clear = Path(a.dir) / f"{a.persons}x{a.settlements}m{a.mistyped:g}"
    prot = Path(a.dir) / f"{a.persons}x{a.settlements}m{a.mistyped:g}-protected"
    if not (clear / "medical.parquet").exists():
        sm.generate(clear, a.persons, a.settlements, a.mistyped)
    if not (prot / "medical.parquet").exists():
        protect_dir(clear, prot)
    load0 = os.getloadavg()
    rows: dict[str, list[dict]] = {"clear": [], "protected": []}
    for rnd in range(a.repeat):
        for name, d in (("clear", clear), ("protected", prot)):
            r = sm.measure("duckdb", d)
            if "query_s" not in r:
                print(f"round {rnd + 1} {name}: FAILED {r.get('error')} {r.get('stderr')}")
                return
            rows[name].append(r)
            print(f"round {rnd + 1} {name:<9}: wall {r['wall_s']:.2f} s, query {r['query_s']:.2f} s, "
                  f"cpu {r['cpu_s']:.2f} s, leads {sum(c for c, _ in r['leads'].values())}", flush=True)  # fmt: skip
    print(f"\n{a.persons:,} persons x {a.settlements:,} settlements, DuckDB, {a.repeat} rounds interleaved; "
          f"load average before {load0}, after {os.getloadavg()}")  # fmt: skip
    med = {
        n: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "query_s", "cpu_s")}
        for n, rs in rows.items()
    }
    for n, m in med.items():
        print(f"{n:<10} median wall {m['wall_s']:.2f} s  query {m['query_s']:.2f} s  cpu {m['cpu_s']:.2f} s")
    for k in ("wall_s", "query_s", "cpu_s"):
        print(f"ratio protected/clear {k}: {med['protected'][k] / med['clear'][k]:.3f}")
    same = all(r["leads"] == rows["clear"][0]["leads"] for rs in rows.values() for r in rs)
    print("leads: " + ("same" if same else "DIFFERENT"))
    lq = [r.get("linkage") for r in rows["protected"][:1]] + [r.get("linkage") for r in rows["clear"][:1]]
    print(f"linkage of mistyped IDs (protected, clear): {lq}")


if __name__ == "__main__":
    main()
