"""The maintained snapshot: one DuckDB file per region prefix, business date and registry generation under
FANGPIN_FILES_DIR/whatif/snapshots/, holding the snapshot's tables and ``evaluate.prepare``'s (the
per-household prefix sums), stamped with the registry's generation when it was built.

``registry_stamp()`` is that generation: for every table the snapshot reads, its newest row (the history
tables of households, persons, income records and living conditions — every save and every delete adds a
history row with a higher id —, member changes and measures with their counts, measures by their last
update, and a digest of the monitoring objects' status and dates). It costs index lookups and one read of
the monitoring objects, so every preview checks it. A stored snapshot whose stamp is not the registry's
current one is never used: ``snapshot_open`` finds no file of the current stamp and the caller builds a new
one (``snapshot_maintained``), so a stale snapshot is never used silently. Built by the Huey job
``whatif_snapshot_task`` (``fangpin whatif --build-snapshot``), refreshed every 20 minutes by
``whatif_snapshots_refresh_task`` (``snapshots_refresh``), or built on first use.

A loaded snapshot has its prepared tables already (no ``prepare``) and its baseline judgements are
computed when it is opened (``warm``), so a preview on it evaluates only the scenario."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from django.conf import settings as dj
from django.db.models import Count, Max

from fangpin.core import clock

from .snapshot import Snapshot, snapshot_build

TABLES = ("households", "spells", "income", "objects")
DATE_COLS = {"objects": ("identified_on", "eliminated_on", "gradual_exit_until"),
             "income": ("period_start", "period_end")}  # fmt: skip
PREPARED = ("lcm", "ch", "cumw", "hh", "spells")
KEEP = 5


def registry_stamp() -> str:
    """The registry's generation: changes whenever anything a snapshot reads changes (see the module doc)."""
    from fangpin.monitoring.models import Measure, MonitoringObject
    from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person
    from fangpin.registry.models.living import HouseholdLivingConditions

    parts: list[Any] = []
    for model in (Household, Person, IncomeRecord, HouseholdLivingConditions):
        # append-only: every save and delete adds a row with a higher id (an index lookup, no count)
        parts.append(model.history.aggregate(last=Max("history_id")))
    parts.append(MemberChange.objects.aggregate(n=Count("id"), last=Max("id")))
    parts.append(Measure.objects.aggregate(n=Count("id"), last=Max("updated_at")))
    h = hashlib.sha256()
    for row in MonitoringObject.objects.order_by("id").values_list(
        "id", "status", "identified_on", "eliminated_on", "gradual_exit_until"
    ):
        h.update(repr(row).encode())
    parts.append(h.hexdigest())
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:24]


def snapshot_dir() -> Path:
    return Path(dj.FANGPIN_FILES_DIR) / "whatif" / "snapshots"


def snapshot_path(prefix: str, on: dt.date, stamp: str) -> Path:
    """One file per region, business date and registry generation: a file is never rewritten in place (a
    process that has one open keeps reading what it opened; DuckDB caches open databases by path)."""
    if (prefix and not prefix.isdigit()) or not stamp.isalnum():
        raise ValueError("bad region prefix or stamp")
    return snapshot_dir() / f"{prefix or 'all'}_{on:%Y%m%d}_{stamp}.duckdb"


def snapshot_store(snap: Snapshot, stamp: str, *, built_by: int | None = None) -> Path:
    """Writes the snapshot and its prepared tables to the file of its stamp (written aside, then renamed);
    ``built_by``: the user whose scope it was built in (the refresh job rebuilds it in the same scope)."""
    from .evaluate import prepare

    path = snapshot_path(snap.region_prefix, snap.on, stamp)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    mem = prepare(snap)
    con = duckdb.connect(str(tmp))
    try:
        for name in TABLES:
            df = getattr(snap, name).copy()
            for c in DATE_COLS.get(name, ()):
                df[c] = pd.to_datetime(df[c], errors="coerce")
            if name == "objects":
                df["guarantee_failures"] = [json.dumps(list(x or []), ensure_ascii=False)
                                            for x in df["guarantee_failures"]]  # fmt: skip
                df["guarantees_ok"] = df["guarantees_ok"].astype("boolean")
            con.register("df", df)
            con.execute(f"CREATE TABLE s_{name} AS SELECT * FROM df")
            con.unregister("df")
        con.register("df", pd.DataFrame({"household_id": sorted(snap.monitored_now)}, dtype="int64"))
        con.execute("CREATE TABLE s_monitored AS SELECT * FROM df")
        con.unregister("df")
        for name in PREPARED:
            con.register("df", mem.sql(f"SELECT * FROM {name}").arrow())
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM df")
            con.unregister("df")
        meta = {"on": snap.on.isoformat(), "prefix": snap.region_prefix, "stamp": stamp, "built_by": built_by,
                "built_at": clock.now().isoformat(), "timings": snap.timings}  # fmt: skip
        con.execute("CREATE TABLE meta AS SELECT ? AS meta", [json.dumps(meta, default=str)])
    finally:
        con.close()
    tmp.replace(path)
    # a region keeps its KEEP most recently built snapshot files
    mine = sorted(
        path.parent.glob(f"{snap.region_prefix or 'all'}_*.duckdb"), key=lambda p: p.stat().st_mtime
    )
    for old in mine[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


def snapshot_open(prefix: str, on: dt.date, *, stamp: str | None = None) -> Snapshot | None:
    """The stored snapshot of ``prefix`` on ``on`` if it was built from the registry as it is now
    (``stamp``: the current ``registry_stamp()``, computed when not given); else None."""
    stamp = stamp or registry_stamp()
    path = snapshot_path(prefix, on, stamp)
    if not path.exists():  # none built from the registry as it is now: a stale one is never opened
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        meta = json.loads(con.execute("SELECT meta FROM meta").fetchall()[0][0])
        if meta["stamp"] != stamp or meta["on"] != on.isoformat() or meta["prefix"] != prefix:
            con.close()
            return None
        frames = {name: con.sql(f"SELECT * FROM s_{name}").df() for name in TABLES}
        monitored = set(con.sql("SELECT household_id FROM s_monitored").df()["household_id"].tolist())
    except Exception:
        con.close()
        raise
    for name, cols in DATE_COLS.items():
        df = frames[name]
        for c in cols:  # dates as the export gives them (datetime.date or None)
            df[c] = [None if pd.isna(x) else pd.Timestamp(x).date() for x in df[c]]
    objs = frames["objects"]
    objs["guarantee_failures"] = [
        json.loads(x) if isinstance(x, str) else [] for x in objs["guarantee_failures"]
    ]
    objs["guarantees_ok"] = [None if pd.isna(x) else bool(x) for x in objs["guarantees_ok"]]
    snap = Snapshot(on, prefix, frames["households"], frames["spells"], frames["income"], objs, monitored,
                    dict(meta.get("timings") or {}))  # fmt: skip
    snap._con = con  # the prepared tables: ``prepare`` returns this connection
    snap.stamp = stamp
    snap.built_at = meta["built_at"]
    return snap


def warm(snap: Snapshot) -> Snapshot:
    """The baseline judgements (parameters in force) computed once, so a preview evaluates the scenario only."""
    from .evaluate import evaluate
    from .paramset import ParamSet

    evaluate(snap, ParamSet())
    return snap


def snapshot_maintained(*, actor, on: dt.date) -> Snapshot:
    """The actor's snapshot on ``on``: the stored one of their region when it is current, else built now
    and stored (a helper limited to assigned households gets their own, unstored)."""
    from fangpin.accounts.scope import assigned_only

    prefix = actor.scope_prefix or ""
    if assigned_only(actor):  # a helper's own households: never shared, never stored
        return warm(snapshot_build(actor=actor, on=on, region_prefix=prefix))
    stamp = registry_stamp()
    snap = snapshot_open(prefix, on, stamp=stamp)
    if snap is None:
        snap = snapshot_build(actor=actor, on=on, region_prefix=prefix)
        snapshot_store(snap, stamp, built_by=actor.pk)
        snap.stamp, snap.built_at = stamp, clock.now().isoformat()
    return warm(snap)


def _meta(path: Path) -> dict[str, Any] | None:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return json.loads(con.execute("SELECT meta FROM meta").fetchall()[0][0])
    except duckdb.Error:
        return None
    finally:
        con.close()


def snapshots_refresh(*, on: dt.date) -> list[str]:
    """For every region that has a stored snapshot, the snapshot of business date ``on`` made current:
    rebuilt when the registry changed since (or when there is none for ``on`` yet), in the scope of the
    user who built the region's latest one (still active, same region). Returns the prefixes rebuilt."""
    from fangpin.accounts.models import User
    from fangpin.accounts.scope import assigned_only

    stamp = registry_stamp()
    latest: dict[str, tuple[float, dict[str, Any]]] = {}
    for path in snapshot_dir().glob("*.duckdb") if snapshot_dir().exists() else []:
        meta = _meta(path)
        if meta is None:
            continue
        t = path.stat().st_mtime
        if meta["prefix"] not in latest or latest[meta["prefix"]][0] < t:
            latest[meta["prefix"]] = (t, meta)
    done = []
    for prefix, (_, meta) in sorted(latest.items()):
        if meta["on"] == on.isoformat() and meta["stamp"] == stamp:
            continue
        user = User.objects.filter(pk=meta.get("built_by"), is_active=True).first()
        if user is None or (user.scope_prefix or "") != prefix or assigned_only(user):
            continue
        snapshot_maintained(actor=user, on=on)
        done.append(prefix)
    return done
