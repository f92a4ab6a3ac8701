"""The chain head anchored outside the audit table (等保 8.1.4.3 c, AUD-02).

The hash chain alone cannot notice the *newest* events being deleted, nor a deleted range whose later
hashes were recomputed by someone who bypassed the append-only trigger. So the head of the chain (last
sequence number, its hash and the number of events up to it) is written, signed with an HMAC keyed from
the secret key, as one line appended to a checkpoint file outside the database (``FANGPIN_AUDIT_CHECKPOINT``,
default ``$FANGPIN_VAR/audit-checkpoint.json``), every 10 minutes by a Huey job and by
``fangpin audit_verify --checkpoint``. ``audit_verify`` checks the table against every line: the event at
each anchored sequence number still exists with the anchored hash, and as many events up to it exist as
were counted then. A deployer ships the file to another host (syslog, WORM store) for a second copy."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    count: int
    at: str

    def payload(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "count": self.count, "at": self.at}, sort_keys=True
        )


def _key() -> bytes:
    return hashlib.sha256(b"fangpin.audit.checkpoint:" + settings.SECRET_KEY.encode()).digest()


def _sign(payload: str) -> str:
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def checkpoint_path() -> Path:
    return Path(settings.FANGPIN_AUDIT_CHECKPOINT)


def checkpoint_write() -> Checkpoint | None:
    """Appends the current chain head; None when the table is empty or the head is already anchored."""
    head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    if head is None:
        return None
    last = checkpoints_read()
    if last and last[-1][0].seq == head["seq"]:
        return None
    count = AuditEvent.objects.filter(seq__lte=head["seq"]).count()
    cp = Checkpoint(head["seq"], head["hash"], count, timezone.now().isoformat())
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({**json.loads(cp.payload()), "hmac": _sign(cp.payload())}, sort_keys=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    return cp


def checkpoints_read() -> list[tuple[Checkpoint, bool]]:
    """Every checkpoint line with whether its signature holds."""
    path = checkpoint_path()
    if not path.exists():
        return []
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            cp = Checkpoint(int(d["seq"]), str(d["hash"]), int(d["count"]), str(d["at"]))
            ok = hmac.compare_digest(_sign(cp.payload()), str(d.get("hmac", "")))
        except (ValueError, KeyError, TypeError):
            cp, ok = Checkpoint(-1, "", -1, ""), False
        out.append((cp, ok))
    return out


def checkpoint_verify() -> list[str]:
    """Problems found by comparing the table with the anchored heads (empty = consistent)."""
    problems: list[str] = []
    for n, (cp, ok) in enumerate(checkpoints_read(), 1):
        if not ok:
            problems.append(f"检查点第{n}行签名无效（检查点文件被改动）")
            continue
        row = AuditEvent.objects.filter(seq=cp.seq).values_list("hash", flat=True).first()
        if row is None:
            problems.append(f"检查点记录的第{cp.seq}号事件已不存在（最新事件被删除）")
        elif row != cp.hash:
            problems.append(f"第{cp.seq}号事件的哈希与检查点不符（哈希链被重算）")
        count = AuditEvent.objects.filter(seq__lte=cp.seq).count()
        if count < cp.count:
            problems.append(f"第{cp.seq}号及以前的事件少了{cp.count - count}条（有事件被删除）")
    return problems
