"""Diff and write for the other national files: compare only the columns the file has, create or update
with history (django-simple-history's bulk helpers, change reason ``导入批次#N``), leave unchanged rows
untouched (so a re-import writes nothing), row provenance on every written row, and a ``FactProvenance``
row per changed field where the record belongs to a household."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from fangpin.core.fields import with_companions
from fangpin.core.masking import mask_text_field
from fangpin.registry.choices import SourceKind
from fangpin.registry.models import FactProvenance


@dataclass
class Planned:
    """One record the file states: its key, the row it came from and the stored values present."""

    key: Any
    row: int
    values: dict[str, Any]


@dataclass
class StoreResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_fields: dict[str, int] = field(default_factory=dict)


def blank_for(model: type[models.Model], name: str, value: Any) -> Any:
    """A blank cell of a text field is stored as "" (Django's convention), of any other field as None."""
    if value is None and isinstance(model._meta.get_field(name), models.CharField):
        return ""
    return value


def diff_counts(
    model: type[models.Model], planned: list[Planned], existing: dict[Any, models.Model]
) -> StoreResult:
    res = StoreResult()
    for p in planned:
        obj = existing.get(p.key)
        if obj is None:
            res.created += 1
            continue
        diff = [f for f, v in p.values.items() if getattr(obj, f) != blank_for(model, f, v)]
        if diff:
            res.updated += 1
            for f in diff:
                res.changed_fields[f] = res.changed_fields.get(f, 0) + 1
        else:
            res.unchanged += 1
    return res


def store(
    model: type[models.Model],
    *,
    key_field: str,
    planned: list[Planned],
    existing: dict[Any, models.Model],
    batch,
    actor,
    now,
    on: dt.date,
    household_of: Any = None,
    entity: str = "",
) -> StoreResult:
    """Write ``planned`` (inside the caller's transaction). ``household_of(obj)`` → household id enables
    field provenance (``FactProvenance(entity=entity)``, observed on the business date ``on``) for updated
    fields; ``now`` is the system timestamp (source_at, history)."""
    res = StoreResult()
    reason = f"导入批次#{batch.pk}"
    creates: list[models.Model] = []
    updates: list[models.Model] = []
    fields: set[str] = set()
    facts: list[FactProvenance] = []
    for p in planned:
        ref = f"导入批次#{batch.pk} 第{p.row}行"
        values = {f: blank_for(model, f, v) for f, v in p.values.items()}
        obj = existing.get(p.key)
        if obj is None:
            creates.append(
                model(
                    **{key_field: p.key},
                    **values,
                    source_kind=SourceKind.IMPORT,
                    source_ref=ref,
                    source_at=now,
                    updated_by=actor,
                )
            )
            continue
        diff = {f: v for f, v in values.items() if getattr(obj, f) != v}
        if not diff:
            res.unchanged += 1
            continue
        for f, v in diff.items():
            setattr(obj, f, v)
            res.changed_fields[f] = res.changed_fields.get(f, 0) + 1
            if household_of is not None:
                facts.append(
                    FactProvenance(
                        household_id=household_of(obj),
                        entity=entity,
                        entity_id=obj.pk,
                        field=f,
                        value=mask_text_field(f, "" if v is None else str(v)),
                        source_kind=SourceKind.IMPORT,
                        source_ref=ref,
                        observed_on=on,  # the import's business date, not the clock
                        recorded_by=actor,
                    )
                )
        obj.version += 1
        obj.source_kind, obj.source_ref, obj.source_at, obj.updated_by = SourceKind.IMPORT, ref, now, actor
        obj.updated_at = now
        fields |= set(diff)
        updates.append(obj)
    if creates:
        bulk_create_with_history(
            creates, model, batch_size=2000, default_user=actor, default_change_reason=reason
        )
    if updates:
        bulk_update_with_history(
            updates,
            model,
            fields=with_companions(  # an encrypted field brings its blind indexes
                model,
                sorted(
                    fields | {"version", "source_kind", "source_ref", "source_at", "updated_by", "updated_at"}
                ),
            ),
            batch_size=2000,
            default_user=actor,
            default_change_reason=reason,
        )
    if facts:
        FactProvenance.objects.bulk_create(facts, batch_size=2000)
    res.created, res.updated = len(creates), len(updates)
    return res
