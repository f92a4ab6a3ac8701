"""Key rotation (``fangpin encryption_rotate``), both keys:

- data keys: re-encrypts every token written under an older data key with the current one;
- index key: recomputes every blind index and tail (``*_bidx``, ``*_tail``) not made with the current index key
  (each stored digest names its key: ``core.crypto.index_key_id``), and lets registered re-indexers rewrite
  what else holds digests (department batch files: ``screening.protect.reindex_batch_files``).

Steps: add the new key first (``FANGPIN_DATA_KEYS`` / ``FANGPIN_INDEX_KEYS``: it becomes current, the old one
stays listed, so old tokens still decrypt and lookups compare the digests of every listed key), run the
command, check ``remaining`` is 0, then remove the old key. The run also re-seals the decision records under
the current integrity key (``core.integrity.integrity_reseal``; rows that fail verification are named, never
re-sealed — see ``fangpin integrity verify``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction

from . import crypto
from .fields import BlindIndexField, EncryptedCharField, SealedJSONField

_REINDEXERS: list = []


def register_reindexer(fn) -> None:
    """``fn(dry_run: bool) -> dict[str, int]``: rewrites digests outside the database (batch files) under the
    current index key; called by ``encryption_rotate`` (registered from AppConfig.ready)."""
    if fn not in _REINDEXERS:
        _REINDEXERS.append(fn)


@dataclass
class RotationResult:
    current: str
    values: dict[str, int] = field(default_factory=dict)  # "app.Model.field" → re-encrypted values
    index_current: str = ""
    indexes: dict[str, int] = field(default_factory=dict)  # "app.Model.field" → re-indexed rows
    files: dict[str, int] = field(default_factory=dict)  # re-indexer → rewritten files
    seals: dict[str, int] = field(default_factory=dict)  # "app.Model" → decision records re-sealed (INT-01)
    seals_refused: list[list] = field(default_factory=list)  # [model, pk] failing under every key: left alone

    @property
    def total(self) -> int:
        return sum(self.values.values())


def _models():
    for m in apps.get_models(include_auto_created=False):
        enc = [f for f in m._meta.concrete_fields if isinstance(f, EncryptedCharField | SealedJSONField)]
        if enc:
            yield m, enc


def encryption_rotate(*, actor, dry_run: bool = False) -> RotationResult:
    """Re-encrypts, in one transaction, every value whose token names another key than the current one."""
    from fangpin.accounts.actors import is_system
    from fangpin.audit.record import audit_record

    is_system(actor)  # refuses None
    current = crypto.keyring().current
    res = RotationResult(current=current)
    qn = connection.ops.quote_name
    with transaction.atomic():
        for model, fields in _models():
            table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
            for f in fields:
                col = qn(f.column)
                with connection.cursor() as cur:
                    cur.execute(f"SELECT {pk}, {col} FROM {table} WHERE {col} IS NOT NULL")  # noqa: S608
                    rows = cur.fetchall()
                updates = []
                for key, raw in rows:
                    if isinstance(f, EncryptedCharField):
                        if raw and crypto.is_token(raw) and crypto.key_id(raw) != current:
                            updates.append((crypto.encrypt(crypto.decrypt(raw, f.purpose), f.purpose), key))
                    elif _old_tokens(raw if isinstance(raw, str) else json.dumps(raw), current):
                        doc = f.from_db_value(raw, None, connection)  # unsealed with the old key
                        updates.append((f.get_db_prep_save(doc, connection), key))  # sealed with the current
                label = f"{model._meta.label}.{f.name}"
                if updates:
                    res.values[label] = len(updates)
                    if not dry_run:
                        with connection.cursor() as cur:
                            cur.executemany(f"UPDATE {table} SET {col} = %s WHERE {pk} = %s", updates)  # noqa: S608
        res.index_current = crypto.keyring().index_current
        _reindex(res, dry_run)
        for fn in _REINDEXERS:
            res.files.update(fn(dry_run))
        if not dry_run:  # integrity keys derive from the data keys: re-seal under the current one
            from .integrity import integrity_reseal

            sealed = integrity_reseal()
            res.seals = {k: n for k, n in sealed.resealed.items() if n}
            res.seals_refused = [[t.model, t.pk] for t in sealed.refused]
        audit_record(
            actor=actor,
            event_type="security.key_rotate",
            object_type="core.crypto",
            data={
                "current": current,
                "values": res.values,
                "index_current": res.index_current,
                "indexes": res.indexes,
                "files": res.files,
                "seals": res.seals,
                "seals_refused": res.seals_refused[:50],
                "dry_run": dry_run,
            },
            result="dry_run" if dry_run else "ok",
        )
    return res


def _reindex(res: RotationResult, dry_run: bool) -> None:
    """Every blind index / tail whose digest names another index key: recomputed from its source's
    plaintext under the current key, the row's other columns untouched."""
    qn = connection.ops.quote_name
    cur_kid = res.index_current
    for model in apps.get_models(include_auto_created=False):
        by_source: dict[str, list[BlindIndexField]] = {}
        for f in model._meta.concrete_fields:
            if isinstance(f, BlindIndexField):
                by_source.setdefault(f.source, []).append(f)
        table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
        for source, idx in by_source.items():
            src = model._meta.get_field(source)
            cols = ", ".join(qn(f.column) for f in idx)
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT {pk}, {qn(src.column)}, {cols} FROM {table} WHERE {qn(src.column)} IS NOT NULL"
                )  # noqa: S608
                rows = cur.fetchall()
            updates = []
            for key, token, *stored in rows:
                if not any(v and crypto.index_key_id(v) != cur_kid for v in stored):
                    continue
                plain = crypto.decrypt(token, src.purpose) if token else token
                updates.append((*(f.derive(plain, src.purpose) for f in idx), key))
            if updates:
                res.indexes[f"{model._meta.label}.{source}"] = len(updates)
                if not dry_run:
                    sets = ", ".join(f"{qn(f.column)} = %s" for f in idx)
                    with connection.cursor() as cur:
                        cur.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", updates)  # noqa: S608


def index_key_counts() -> dict[str, int]:
    """{index key id: stored digests made with it}, over every blind index and tail column."""
    out: dict[str, int] = {}
    for model in apps.get_models(include_auto_created=False):
        for f in model._meta.concrete_fields:
            if isinstance(f, BlindIndexField):
                for v in model._base_manager.exclude(**{f"{f.name}__isnull": True}).values_list(
                    f.name, flat=True
                ):
                    if v:
                        kid = crypto.index_key_id(v)
                        out[kid] = out.get(kid, 0) + 1
    return out


def _old_tokens(text: str, current: str) -> bool:
    return any(kid != current for kid in re.findall(r'"v1:([A-Za-z0-9_]{1,16}):', text))
