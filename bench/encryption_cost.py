"""Bench: what encryption at rest costs the bulk import write (issue #17 item 4), side by side in one run.

    .venv/bin/python bench/encryption_cost.py [N=20000] [--rounds 3]

Builds a fresh SQLite database in a temp dir (migrated, 龙安区 loaded), then writes N persons (N/4 households)
with their history rows through the importer's own writer (``registry.io.bulk.fast_create_with_history``),
inside a transaction that is rolled back, alternating two modes each round:

- ``encrypted``: the product — SM4-GCM tokens for 证件号码/电话/残疾人证号, HMAC-SM3 blind indexes;
- ``baseline``: the same code with the cipher and the HMAC replaced by the identity (plaintext in the same
  columns), i.e. the write as it was before encryption.

Prints CPU seconds (process_time: steadier than wall time on a shared machine) and persons/s per mode and
round, and the ratio encrypted ÷ baseline; plus the cost per value of ``encrypt``, ``decrypt`` and one
blind index alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fangpin-bench-enc-"))
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

    from fangpin.core import crypto
    from fangpin.core.ids import make_id_number
    from fangpin.regions.loader import load_regions
    from fangpin.registry.io import bulk
    from fangpin.registry.models import Household, Person

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_regions(county_prefixes=["410506"])
    print(
        f"setup {time.perf_counter() - t:.1f} s (migrate + regions), N = {a.n} persons, {a.n // 4} households"
    )
    village = "410506205201"
    now = timezone.now()
    n_hh = max(1, a.n // 4)
    hh_rows = [
        {"household_no": f"{village}{i:06d}", "village_id": village, "household_type": "一般农户",
         "phone": f"138{i:08d}"}
        for i in range(n_hh)
    ]  # fmt: skip

    def person_rows(hh_ids: list[int]) -> list[dict]:
        out = []
        for i in range(a.n):
            birth = dt.date(1950 + i % 60, 1 + i % 12, 1 + i % 28)
            idn = make_id_number("410506", birth, i % 999, "M" if i % 2 else "F")
            out.append({
                "household_id": hh_ids[i % n_hh], "name": "张三", "gender": "M" if i % 2 else "F",
                "birth_date": birth, "relation": "户主" if i % 4 == 0 else "子", "id_number": idn,
                "phone": f"139{i:08d}", "disability_cert_no": idn + "42" if i % 20 == 0 else "",
            })  # fmt: skip
        return out

    def write() -> float:
        with transaction.atomic():
            ids = bulk.fast_create_with_history(
                Household, [dict(r) for r in hh_rows], history_user_id=None, change_reason="bench", now=now
            )
            rows = person_rows(ids)
            c0 = time.process_time()  # the persons' write only (their rows built outside the clock)
            bulk.fast_create_with_history(Person, rows, history_user_id=None, change_reason="bench", now=now)
            spent = time.process_time() - c0
            transaction.set_rollback(True)
        return spent

    def plain_many(values, purpose):
        return list(values)

    results: dict[str, list[float]] = {"baseline": [], "encrypted": []}
    for r in range(a.rounds):
        for mode in ("baseline", "encrypted") if r % 2 == 0 else ("encrypted", "baseline"):
            if mode == "baseline":
                with (
                    mock.patch.object(crypto, "encrypt_many", plain_many),
                    mock.patch.object(crypto, "_digest", lambda purpose, kind, value, size: None),
                ):
                    s = write()
            else:
                s = write()
            results[mode].append(s)
            print(f"round {r + 1} {mode:9s} {s:6.2f} CPU s  {a.n / s:8.0f} persons/s (+ history rows)")
    b, e = min(results["baseline"]), min(results["encrypted"])
    print(f"best of {a.rounds}: baseline {b:.2f} CPU s, encrypted {e:.2f} CPU s, ratio {e / b:.2f}, "
          f"+{(e - b) / a.n * 1e6:.0f} µs per person")  # fmt: skip

    vals = [make_id_number("410506", dt.date(1980, 1, 1 + i % 28), i % 999, "M") for i in range(20_000)]
    c = time.process_time()
    toks = crypto.encrypt_many(vals, "id_number")
    enc = (time.process_time() - c) / len(vals) * 1e6
    c = time.process_time()
    for x in toks:
        crypto.decrypt(x, "id_number")
    dec = (time.process_time() - c) / len(vals) * 1e6
    c = time.process_time()
    for v in vals:
        crypto.blind_index(v, "id_number")
    idx = (time.process_time() - c) / len(vals) * 1e6
    print(f"per value: encrypt {enc:.1f} µs, decrypt {dec:.1f} µs, blind index {idx:.1f} µs (CPU)")
    print(f"load average {os.getloadavg()[0]:.1f} (figures are CPU time of this process)")


if __name__ == "__main__":
    main()
