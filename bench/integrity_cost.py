"""Bench: what the INT-01 integrity seals cost, side by side with a baseline in one run.

    .venv/bin/python bench/integrity_cost.py [N=20000] [--rounds 3]

Builds a fresh SQLite database in a temp dir (migrated, 龙安区 loaded, N/4 households), then per round:

- **import write**: N income records with their history rows through the importer's own writer
  (``registry.io.bulk.fast_create_with_history``) inside a transaction that is rolled back, in two modes —
  ``sealed`` (the product: an HMAC-SM3 seal per row) and ``baseline`` (the same code with ``seal_for``
  replaced by a constant, i.e. the write as it was before the seals);
- **verify**: ``integrity_verify`` over the N committed records against a ``baseline`` that streams the same
  ``values()`` rows and does nothing with them (the read alone);
- **+ deleted**: ``integrity_verify`` followed by the deleted-row check against a checkpoint anchoring the N
  ids (``core.seal_checkpoint.checkpoint_check``, what ``integrity verify`` runs) against ``integrity_verify``
  alone, both timed in the same call. The checkpoint costs nothing on writes (no write path changes).

Prints CPU seconds (process_time: steadier than wall time on a shared machine), rows/s and the ratio
sealed ÷ baseline per round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fangpin-bench-int-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        FANGPIN_VAR=str(tmp),
        DJANGO_SETTINGS_MODULE="fangpin.settings.dev",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from fangpin.core import integrity
    from fangpin.regions.loader import load_regions
    from fangpin.registry.io import bulk
    from fangpin.registry.models import Household, IncomeRecord

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_regions(county_prefixes=["410506"])
    village, now = "410506205201", timezone.now()
    n_hh = max(1, a.n // 4)
    hh_ids = bulk.fast_create_with_history(
        Household,
        [{"household_no": f"{village}{i:06d}", "village_id": village, "household_type": "一般农户"} for i in range(n_hh)],
        history_user_id=None, change_reason="bench", now=now,
    )  # fmt: skip
    print(
        f"setup {time.perf_counter() - t:.1f} s (migrate + regions + {n_hh} households), N = {a.n} income records"
    )

    def rows() -> list[dict]:
        return [
            {"household_id": hh_ids[i % n_hh], "period_start": dt.date(2000 + i // n_hh, 1, 1),
             "period_end": dt.date(2000 + i // n_hh, 12, 31), "wage": Decimal(10000 + i % 5000),
             "transfer_dibao": Decimal(i % 3 * 600), "compliant_out_of_pocket": Decimal(i % 7 * 100),
             "excluded": {"慰问金": 500} if i % 10 == 0 else {}}
            for i in range(a.n)
        ]  # fmt: skip

    def write(mode: str) -> float:
        data = rows()
        patch = (
            mock.patch.object(bulk, "seal_for", lambda *args, **kw: "")
            if mode == "baseline"
            else mock.patch.object(bulk, "seal_for", bulk.seal_for)
        )
        with patch, transaction.atomic():
            c0 = time.process_time()
            bulk.fast_create_with_history(
                IncomeRecord, data, history_user_id=None, change_reason="bench", now=now
            )
            cpu = time.process_time() - c0
            transaction.set_rollback(True)
        return cpu

    # committed rows for the verify rounds
    with transaction.atomic():
        bulk.fast_create_with_history(
            IncomeRecord, rows(), history_user_id=None, change_reason="bench", now=now
        )
    fields = [f.attname for f in integrity._seal_fields(IncomeRecord)]

    def read_only() -> float:
        c0 = time.process_time()
        for _r in IncomeRecord._base_manager.values("id", "integrity_mac", *fields).iterator(chunk_size=2000):
            pass
        return time.process_time() - c0

    def verify() -> float:
        c0 = time.process_time()
        res = integrity.integrity_verify([IncomeRecord])
        cpu = time.process_time() - c0
        assert res.ok and res.checked["registry.IncomeRecord"] == a.n, res.checked
        return cpu

    from django.conf import settings

    from fangpin.core import seal_checkpoint

    settings.FANGPIN_INTEGRITY_CHECKPOINT = tmp / "integrity-checkpoint.jsonl"
    cp = seal_checkpoint.checkpoint_check([IncomeRecord])
    seal_checkpoint.checkpoint_append(cp.new_runs, at=now)

    def verify_and_deleted() -> tuple[float, float]:
        """(CPU of integrity_verify, CPU of it plus the checkpoint check), measured in the same call."""
        c0 = time.process_time()
        res = integrity.integrity_verify([IncomeRecord])
        c1 = time.process_time()
        cp = seal_checkpoint.checkpoint_check([IncomeRecord])
        c2 = time.process_time()
        assert res.ok and cp.ok and cp.lines == 1 and not cp.new_runs, (cp.lines, cp.problems)
        return c1 - c0, c2 - c0

    print(
        f"{'round':>5} {'what':<13} {'baseline CPU s':>15} {'sealed CPU s':>13} {'ratio':>6} {'sealed rows/s':>14}"
    )
    for r in range(1, a.rounds + 1):
        b, s = write("baseline"), write("sealed")
        print(f"{r:>5} {'import write':<13} {b:>15.2f} {s:>13.2f} {s / b:>6.2f} {a.n / s:>14,.0f}")
        b, s = read_only(), verify()
        print(f"{r:>5} {'verify':<13} {b:>15.2f} {s:>13.2f} {s / b:>6.2f} {a.n / s:>14,.0f}")
        b, s = verify_and_deleted()
        print(f"{r:>5} {'+ deleted':<13} {b:>15.2f} {s:>13.2f} {s / b:>6.2f} {a.n / s:>14,.0f}")
    c0 = time.process_time()
    one = rows()[0]
    for i in range(a.n):
        integrity.seal_for(IncomeRecord, i, one)
    print(f"seal_for alone: {(time.process_time() - c0) / a.n * 1e6:.1f} µs CPU per record")


if __name__ == "__main__":
    main()
