"""The synthetic county / province generator (Python and numpy, no database needed).

Public entry points:
- ``county_plan(county, seed=, scale=)`` / ``province_plan(prefix, seed=, persons=)``: village specs.
- ``iter_villages(specs, params_for, seed=)``: generated villages one by one (IDs given, defects planted).
- ``generate_parquet(prefix, persons=, out=, seed=)``: a province (or county) streamed to Parquet.
"""

from __future__ import annotations

import datetime as dt
import gc
import resource
from collections.abc import Callable, Iterator
from pathlib import Path

from .county import county_plan, iter_villages, province_plan, rural_villages_from_csv
from .params import GenParams, gen_params_from_defaults
from .parquet import write_parquet
from .village import VillageData, VillageSpec, generate_village


def _county_job(job: tuple) -> tuple[str, dict[str, int], int]:
    """(county, rows written per table, the peak RSS in kB of the process that wrote it, so far)."""
    county, specs, seed, as_of, defect_rate, out, chunk_rows = job
    params = gen_params_from_defaults(county, as_of)
    counts = write_parquet(
        iter_villages(specs, lambda _c: params, seed=seed, defect_rate=defect_rate),
        out,
        chunk_rows=chunk_rows,
        part=county,
    )
    return county, counts, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# progress(county, its rows per table, the peak RSS in kB of the worker that wrote it, counties done,
# counties in all): called in the parent as each county's files are closed
Progress = Callable[[str, dict[str, int], int, int, int], None]


def generate_parquet(
    prefix: str,
    *,
    persons: int,
    out: Path,
    as_of: dt.date,
    seed: int = 0,
    defect_rate: float = 0.015,
    chunk_rows: int = 50_000,
    workers: int = 1,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Generate about ``persons`` registered persons over the rural villages under ``prefix``
    (a province "41" or a county "410506") straight to Parquet, with bounded memory: one county at a
    time per worker, ``chunk_rows`` persons buffered. Output ``out/<table>/<county>.parquet``; the
    files of a county do not depend on ``workers``. Parameters come from the shipped defaults. ``as_of``:
    the business date the generated history ends on (the command's ``--as-of``, default today).
    ``progress``: see ``Progress`` (the bench prints it)."""
    specs = province_plan(prefix, seed=seed, persons=persons)
    by_county: dict[str, list[VillageSpec]] = {}
    for s in specs:
        by_county.setdefault(s.code[:6], []).append(s)
    jobs = [(c, by_county[c], seed, as_of, defect_rate, Path(out), chunk_rows) for c in sorted(by_county)]
    totals: dict[str, int] = {}
    if workers > 1:
        import pyarrow as pa

        # pyarrow imports pandas on its first pa.array() (~0.4 s): once here, so that every forked
        # worker (recycled after 8 counties) shares it instead of importing it again
        pa.array([0])
    # the rows are plain dicts without reference cycles, freed by reference counting: the cyclic
    # collector's walks over a chunk of live rows find nothing, so it runs rarely here and never walks
    # the start-up objects (Django, pyarrow, pandas)
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)
    try:
        for done, (county, counts, rss_kb) in enumerate(_run_jobs(jobs, workers), start=1):
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
            if progress is not None:
                progress(county, counts, rss_kb, done, len(jobs))
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
    return totals


def _run_jobs(jobs: list[tuple], workers: int) -> Iterator[tuple[str, dict[str, int], int]]:
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(workers, maxtasksperchild=8) as pool:
            yield from pool.imap_unordered(_county_job, jobs)
    else:
        for j in jobs:
            yield _county_job(j)


__all__ = [
    "GenParams",
    "VillageData",
    "VillageSpec",
    "county_plan",
    "generate_parquet",
    "generate_village",
    "iter_villages",
    "province_plan",
    "rural_villages_from_csv",
]
