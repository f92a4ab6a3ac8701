"""Deleted decision records (INT-01, 等保 8.1.4.7 b): a signed checkpoint of which sealed rows exist, kept outside
the database (docs/parts/security.md).

A seal (``core.integrity``) proves a row was not changed; it cannot show that a row is *missing*. The sealed
records are never deleted by the application (``NoDelete``; no service deletes an income record, a case event or
a change request), so every id that once existed must exist for ever. The checkpoint file
(``FANGPIN_INTEGRITY_CHECKPOINT``, default ``$FANGPIN_VAR/integrity-checkpoint.jsonl``; a deployer ships it to
another host or WORM store like the audit checkpoint) holds one line per checkpoint: the ids of each sealed table
that were *not yet* in an earlier line, as runs ``[first, last]`` (ids are mostly consecutive, so a line is small:
a few bytes per gap, not per row), and an HMAC-SM3 under the integrity key (``core.crypto.integrity_keys``) with
its key id. A line is written only after a clean verify (``fangpin integrity verify --checkpoint`` and the nightly
job), so it anchors a state that verified.

``checkpoint_check`` streams each table's ids in order against the union of every line's runs and names each id
that is gone (``记录已被删除``); a line whose signature fails is reported too. Zero cost on writes; a verify reads
the ids once more (an index-only scan). A row inserted and deleted between two checkpoints is not seen (the same
window as the audit chain's newest events); a row reverted to an older version together with its older seal is
not this file's business (docs/parts/security.md, "What the seals do not cover")."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models

from . import crypto
from .integrity import Tampered, _mac, sealed_models

NAMED_PER_TABLE = 200  # missing ids named one by one per table; the rest are counted in one entry
_CHUNK = 20_000


def checkpoint_path() -> Path:
    return Path(settings.FANGPIN_INTEGRITY_CHECKPOINT)


def _payload(at: str, tables: dict[str, list[list[int]]]) -> str:
    return json.dumps({"at": at, "tables": tables}, sort_keys=True, separators=(",", ":"))


def _sign(kid: str, payload: str) -> str:
    _, keys = crypto.integrity_keys()
    return _mac(keys[kid], f"fangpin:integrity-checkpoint\x1e{payload}".encode())


@dataclass(frozen=True)
class Line:
    n: int  # 1-based line number in the file
    at: str
    tables: dict[str, list[list[int]]]
    problem: str  # '' when the signature holds


def checkpoint_read() -> list[Line]:
    path = checkpoint_path()
    if not path.exists():
        return []
    out: list[Line] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            at, tables, kid, sig = str(d["at"]), d["tables"], str(d["key"]), str(d["hmac"])
            tables = {str(k): [[int(a), int(b)] for a, b in v] for k, v in tables.items()}
        except (ValueError, KeyError, TypeError):
            out.append(Line(n, "", {}, f"完整性检查点第{n}行无法解析（检查点文件被改动）"))
            continue
        _, keys = crypto.integrity_keys()
        if kid not in keys:
            problem = f"完整性检查点第{n}行的签名密钥 {kid} 不在密钥列表中"
        elif not hmac.compare_digest(_sign(kid, _payload(at, tables)), sig):
            problem = f"完整性检查点第{n}行签名无效（检查点文件被改动）"
        else:
            problem = ""
        out.append(Line(n, at, tables if not problem else {}, problem))
    return out


def _ids(model: type[models.Model], using: str) -> Iterator[int]:
    pk = model._meta.pk.attname
    qs = model._base_manager.using(using).order_by(pk).values_list(pk, flat=True)
    yield from qs.iterator(chunk_size=_CHUNK)


def _merged(runs: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Sorted, non-overlapping (lines never anchor an id twice, but a hand-made file might)."""
    out: list[tuple[int, int, str]] = []
    for a, b, at in sorted(runs):
        if out and a <= out[-1][1]:
            pa, pb, pat = out[-1]
            out[-1] = (pa, max(pb, b), min(pat, at))
        else:
            out.append((a, b, at))
    return out


def _scan(
    model: type[models.Model], runs: list[tuple[int, int, str]], using: str
) -> tuple[list[tuple[int, str]], int, list[list[int]]]:
    """One ordered pass over the table's ids against the anchored runs (each with the time of its line):
    (missing (id, anchored at) — the first NAMED_PER_TABLE, how many are missing, runs of ids not anchored yet)."""
    missing: list[tuple[int, str]] = []
    n_missing = 0
    new: list[list[int]] = []
    runs = _merged(runs)
    i = 0  # current run
    nxt = runs[0][0] if runs else None  # next anchored id expected

    def gone(upto: int | None) -> None:
        """Every anchored id below ``upto`` (None = all the rest) not seen: missing."""
        nonlocal i, nxt, n_missing
        while nxt is not None and (upto is None or nxt < upto):
            a, b, at = runs[i]
            hi = b if upto is None else min(b, upto - 1)
            count = hi - nxt + 1
            for pk in range(nxt, min(hi, nxt + max(0, NAMED_PER_TABLE - len(missing)) - 1) + 1):
                missing.append((pk, at))
            n_missing += count
            if hi == b:
                i += 1
                nxt = runs[i][0] if i < len(runs) else None
            else:
                nxt = hi + 1

    for pk in _ids(model, using):
        gone(pk)
        if nxt is not None and pk == nxt:  # anchored and present
            a, b, _at = runs[i]
            if pk == b:
                i += 1
                nxt = runs[i][0] if i < len(runs) else None
            else:
                nxt = pk + 1
            continue
        if new and new[-1][1] == pk - 1:  # present, not anchored yet
            new[-1][1] = pk
        else:
            new.append([pk, pk])
    gone(None)
    return missing, n_missing, new


@dataclass
class CheckpointResult:
    lines: int
    problems: list[str]  # unreadable or unsigned lines
    deleted: list[Tampered]
    new_runs: dict[str, list[list[int]]]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.deleted


def checkpoint_check(
    models_: Sequence[type[models.Model]] | None = None, *, using: str = "default"
) -> CheckpointResult:
    """Every id any checkpoint line anchored still exists; the ids not anchored yet (for the next line)."""
    lines = checkpoint_read()
    problems = [ln.problem for ln in lines if ln.problem]
    deleted: list[Tampered] = []
    new_runs: dict[str, list[list[int]]] = {}
    for model in models_ or sealed_models():
        label = model._meta.label
        runs = [(a, b, ln.at) for ln in lines for a, b in ln.tables.get(label, [])]
        missing, n_missing, new = _scan(model, runs, using)
        name = str(model._meta.verbose_name)
        for pk, at in missing:
            deleted.append(
                Tampered(label, name, pk, f"{name}#{pk}", f"记录已被删除（{at[:19]} 的检查点中存在）")
            )
        if n_missing > len(missing):
            rest = n_missing - len(missing)
            deleted.append(
                Tampered(label, name, None, f"另有 {rest} 条{name}", "记录已被删除（检查点中存在）")
            )
        if new:
            new_runs[label] = new
    return CheckpointResult(len(lines), problems, deleted, new_runs)


def checkpoint_append(new_runs: dict[str, list[list[int]]], *, at: dt.datetime) -> bool:
    """Appends one signed line anchoring ``new_runs`` (from a clean ``checkpoint_check``); False if empty."""
    if not new_runs:
        return False
    kid, _ = crypto.integrity_keys()
    stamp = at.isoformat()
    payload = _payload(stamp, new_runs)
    line: dict[str, Any] = {"at": stamp, "tables": new_runs, "key": kid, "hmac": _sign(kid, payload)}
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return True
