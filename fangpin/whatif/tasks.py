"""The full what-if run as a background job: snapshot, both evaluations, the workbook and the lists,
written as files under FANGPIN_FILES_DIR/whatif/<token>/ (never to the database)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.conf import settings as dj
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


def result_dir(token: str) -> Path:
    if not token.isalnum():
        raise ValueError("bad token")
    return Path(dj.FANGPIN_FILES_DIR) / "whatif" / token


def result_write(token: str, c, xlsx: bytes) -> dict[str, Any]:
    d = result_dir(token)
    d.mkdir(parents=True, exist_ok=True)
    out = {
        "on": c.on.isoformat(),
        "baseline": c.baseline.label,
        "scenario": c.scenario.describe(),
        "rows": c.rows,
        "changed": c.changed,
        "timings": c.timings,
        "snapshot": c.snapshot,
        "measures": c.measures,
        "screening": c.screening,
        "lists": {m: c.households(m) for m in c.measures},
    }
    (d / "result.json").write_text(json.dumps(out, ensure_ascii=False, default=str), encoding="utf-8")
    (d / "result.xlsx").write_bytes(xlsx)
    return out


def result_read(token: str) -> dict[str, Any] | None:
    f = result_dir(token) / "result.json"
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else None


@db_task()
def whatif_full_run_task(
    user_id: int,
    on: str,
    settings: dict[str, Any],
    year: int | None,
    token: str,
    screening: bool | None = None,
) -> str:
    """Runs ``whatif_run`` for the user (their scope) and stores the result files; returns the token."""
    from fangpin.accounts.models import User

    from .excel import whatif_xlsx
    from .services import whatif_run

    actor = User.objects.get(pk=user_id)
    c = whatif_run(
        actor=actor, on=dt.date.fromisoformat(on), settings=settings, year=year, screening=screening
    )
    result_write(token, c, whatif_xlsx(c))
    return token


@db_task()
def whatif_snapshot_task(user_id: int, on: str) -> str:
    """Builds (or confirms current) the maintained snapshot of the user's region on ``on``; returns its stamp."""
    from fangpin.accounts.models import User

    from .store import snapshot_maintained

    snap = snapshot_maintained(actor=User.objects.get(pk=user_id), on=dt.date.fromisoformat(on))
    return snap.stamp


@db_periodic_task(crontab(minute="*/20"))
def whatif_snapshots_refresh_task() -> list[str]:
    """Every 20 minutes: each region's maintained snapshot of today made current again after registry
    changes (``store.snapshots_refresh``), so the next preview finds it ready."""
    from fangpin.core import clock

    from .store import snapshots_refresh

    return snapshots_refresh(on=clock.today())
