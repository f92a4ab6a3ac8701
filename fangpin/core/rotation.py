"""Key rotation: re-encrypts every token written under an older data key with the current one
(``fangpin encryption_rotate``). The blind indexes do not change (the index key is separate and stays).
Steps: add the new key first in ``FANGPIN_DATA_KEYS`` (it becomes current; the old one stays listed so old
tokens still decrypt), run the command, then remove the old key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction

from . import crypto
from .fields import EncryptedCharField, SealedJSONField


@dataclass
class RotationResult:
    current: str
    values: dict[str, int] = field(default_factory=dict)  # "app.Model.field" → re-encrypted values

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
        audit_record(
            actor=actor,
            event_type="security.key_rotate",
            object_type="core.crypto",
            data={"current": current, "values": res.values, "dry_run": dry_run},
            result="dry_run" if dry_run else "ok",
        )
    return res


def _old_tokens(text: str, current: str) -> bool:
    return any(kid != current for kid in re.findall(r'"v1:([A-Za-z0-9_]{1,16}):', text))
