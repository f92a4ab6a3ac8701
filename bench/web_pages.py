"""Household list and household file: time per request and queries per request, in process.

    FANGPIN_VAR=/path/with/demo DJANGO_SETTINGS_MODULE=fangpin.settings.test python bench/web_pages.py [--n 40]
        [--concurrency 10]

Needs a database with a demo county (``fangpin demo_county``). Prints p50/p95 in ms and the number of SQL
queries per page beside the baseline measured before the browser application (issue #16: household file
p95 ~2 s, ~60 parameter look-ups; search ~0.8 s with one query per row)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from fangpin.accounts.models import User  # noqa: E402
from fangpin.registry.models import Household  # noqa: E402

BASELINE = {
    "household file": "p95 ~2000 ms at 10 clients (issue #16)",
    "file, seen before": "same page again",
    "findings (htmx)": "逻辑校验 section, loaded after the page",
    "household search": "p95 ~800 ms at 10 clients (issue #16)",
    "filters (line, findings)": "first use computed over the area (~4 s at 4,287 households), then cached",
    "filters after writes, inline": "K households dirtied before each list, no job queued: recomputed on the request",
    "filters after writes, job": "the same with the background refresh queued: left to it, the list says so",
}


def dirty_before_each(urls: list[str], ids: list[int], k: int, *, job: bool) -> list[tuple[str, object]]:
    """Each list preceded by a change to ``k`` of the sample's households (their flags marked dirty, as a
    touch does), and the background refresh queued or not (``registry.flags.PENDING_KEY``)."""
    import random
    import time as _t

    from django.core.cache import cache
    from django.db.models import F

    from fangpin.registry import flags
    from fangpin.registry.models import HouseholdFlags

    def prepare() -> None:
        HouseholdFlags.objects.filter(household_id__in=random.sample(ids, min(k, len(ids)))).update(
            dirty=True, gen=F("gen") + 1
        )
        if job:
            cache.set(flags.PENDING_KEY, _t.time(), 60)
        else:
            cache.delete_many([flags.PENDING_KEY, flags.BEAT_KEY])

    return [(u, prepare) for u in urls]


def measure(client: Client, urls: list) -> tuple[list[float], list[int]]:
    times, queries = [], []
    for u in urls:
        if isinstance(u, tuple):  # (url, what to do before it, not timed)
            u, before = u
            before()
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            r = client.get(u)
            times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (u, r.status_code)
        queries.append(len(q.captured_queries))
    return times, queries


def concurrent(user, urls: list[str], n: int) -> tuple[list[float], list[int]]:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def worker(chunk: list[str]) -> tuple[list[float], list[int]]:
        c = Client()
        c.force_login(user)
        times = []
        for u in chunk:
            t = time.perf_counter()
            r = c.get(u)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (u, r.status_code)
        connections.close_all()
        return times, []

    chunks = [urls[i::n] for i in range(n)]
    with ThreadPoolExecutor(n) as ex:
        results = list(ex.map(worker, chunks))
    return [t for r in results for t in r[0]], []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--user", default="county_admin")
    ap.add_argument(
        "--concurrency", type=int, default=1, help="clients at once (threads, one connection each)"
    )
    ap.add_argument(
        "--dirty", type=int, default=5, help="households changed before each list of the 'after writes' rows"
    )
    ap.add_argument("--pages", default="", help="semicolon-separated page groups to run (default: all)")
    args = ap.parse_args()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(User.objects.get(username=args.user))
    user = User.objects.get(username=args.user)
    from fangpin.accounts.scope import scoped

    # a random sample of the households the user may see
    visible = scoped(user, Household.objects.all())
    ids = list(visible.order_by("?").values_list("id", flat=True)[: args.n])
    pages = {
        "household file": [f"/households/{i}/" for i in ids],
        "file, seen before": [f"/households/{i}/" for i in ids],
        "findings (htmx)": [f"/households/{i}/findings/" for i in ids],
        "household search": ["/households/"]
        + [f"/households/?q={q}" for q in ("王", "41050620", "李建", "138")]
        + [f"/households/?page={p}" for p in range(2, 8)]
        + ["/households/?monitoring=active"],
        "filters (line, findings)": [
            u
            for p in range(1, 4)
            for u in (f"/households/?below_line=1&page={p}", f"/households/?has_findings=1&page={p}")
        ],
    }
    lists = pages["filters (line, findings)"] * 3  # 18 lists, each after its own writes
    pages["filters after writes, inline"] = dirty_before_each(lists, ids, args.dirty, job=False)
    pages["filters after writes, job"] = dirty_before_each(lists, ids, args.dirty, job=True)
    if args.pages:
        wanted = {p.strip() for p in args.pages.split(";")}
        pages = {k: v for k, v in pages.items() if k in wanted}
    print(
        f"households in database: {Household.objects.count()}, user {args.user}, clients {args.concurrency}"
    )
    user = User.objects.get(username=args.user)
    for name, urls in pages.items():
        if name not in ("file, seen before", "findings (htmx)") and not name.startswith("filters"):
            measure(client, urls[:2])  # warm-up
        if args.concurrency > 1 and not name.startswith("filters after"):
            times, queries = concurrent(user, urls * args.concurrency, args.concurrency)
        else:
            times, queries = measure(client, urls)
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
        print(
            f"{name:<18} n={len(times):<3} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  "
            + (
                f"queries/page median {statistics.median(queries):.0f} max {max(queries)}"
                if queries
                else "queries n/a"
            )
            + f"   baseline: {BASELINE[name]}"
        )


if __name__ == "__main__":
    main()
