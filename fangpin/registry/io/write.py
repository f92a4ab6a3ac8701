"""Comparing parsed import rows with the registry and writing the difference, set-based.

Idempotent by 户编号 (households), 证件号码 (persons) and (household, income year) (income records):
unchanged rows are not touched (no history row), changed rows are updated with one history row each,
new rows are created with ``bulk_create_with_history``. Only the columns present in the file are compared:
a province whose export lacks a column never resets that field. Nothing is deleted: a member missing
from the file stays as it is (members leave through 自然减少 changes, not through an import).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet
from simple_history.utils import bulk_update_with_history

from fangpin.core import clock
from fangpin.core.crypto import blind_indexes
from fangpin.core.errors import RowError
from fangpin.core.fields import with_companions
from fangpin.core.masking import mask_id_number, mask_text_field
from fangpin.registry.choices import SourceKind
from fangpin.registry.models import FactProvenance, Household, IncomeRecord, Person
from fangpin.registry.services.households import do_household_move

from .bulk import fast_create_with_history
from .columns import FactsDict
from .validate import E_MEMBER_MOVE, E_OUT_OF_SCOPE, Parsed

BATCH = 2000
LOOKUP_CHUNK = 20000
_UNSAFE = ("C", "D")


def _chunks(seq: list, n: int) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _changed(cur: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Fields whose new value differs (Decimal('5.00') == Decimal('5'): numeric equality is enough).
    ``national_facts`` (a ``FactsDict``) is merged into the current dict: keys of columns the file lacks stay."""
    out = {}
    for k, v in fields.items():
        if isinstance(v, FactsDict):
            v = v.merged_into(cur.get(k))
        if cur.get(k) != v:
            out[k] = v
    return out


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class Plan:
    """What an import would do; ``apply`` does it. Built the same way for a dry run."""

    new_households: list[dict[str, Any]] = field(default_factory=list)
    changed_households: dict[int, dict[str, Any]] = field(default_factory=dict)  # id → changed fields
    new_persons: list[dict[str, Any]] = field(default_factory=list)
    changed_persons: dict[int, dict[str, Any]] = field(default_factory=dict)
    new_income: list[dict[str, Any]] = field(default_factory=list)
    changed_income: dict[int, dict[str, Any]] = field(default_factory=dict)
    household_ids: dict[str, int] = field(default_factory=dict)  # 户编号 → id of existing households
    # households the file puts in another village: id → {household_no, from, to, row}; applied through
    # the registry's move service (not as a plain field change), so the move is its own history row
    moves: dict[int, dict[str, Any]] = field(default_factory=dict)
    # registered persons the file lists under another household *and* states the move for (成员变更
    # 迁移/分户): person id → {household_no (target), from_household_no, kind, row}; applied through the
    # registry member service (MemberChange rows), never as a plain field change
    member_moves: dict[int, dict[str, Any]] = field(default_factory=dict)
    first_row: dict[tuple[str, object], int] = field(default_factory=dict)
    households: Counts = field(default_factory=Counts)
    persons: Counts = field(default_factory=Counts)
    income: Counts = field(default_factory=Counts)
    rejects: list[RowError] = field(default_factory=list)


def _filter_in(model: type[Model], field: str, values: list) -> QuerySet:
    """``model.objects.filter(<field>__in=values)`` with the values bound as one parameter (a JSON array
    on SQLite, an array on PostgreSQL) instead of one placeholder each: Django prepares every ``__in``
    value in Python, which cost more than the query itself for 100k 证件号码."""
    qn = connection.ops.quote_name
    col = f"{qn(model._meta.db_table)}.{qn(model._meta.get_field(field).column)}"
    if connection.vendor == "postgresql":
        return model.objects.extra(where=[f"{col} = ANY(%s)"], params=[list(values)])  # noqa: S610
    if connection.vendor == "sqlite":
        return model.objects.extra(  # noqa: S610
            where=[f"{col} IN (SELECT value FROM json_each(%s))"], params=[json.dumps(list(values))]
        )
    return model.objects.filter(**{f"{field}__in": values})


def _existing(model: type[Model], key: str, values: list[str], fields: Iterable[str]) -> dict[str, dict]:
    """{key value: row} of the registered rows among ``values``. An encrypted key (证件号码) is matched on its
    blind index: the values' HMACs go to SQL, never the values."""
    out: dict[str, dict] = {}
    cols = ["id", key, *fields]
    index = getattr(model._meta.get_field(key), "index", None)
    if index:
        # every listed index key: rows indexed before an index-key rotation finished match too
        by_digest = blind_indexes(values, model._meta.get_field(key).purpose, every_key=True)
        rest = [c for c in cols if c != key]  # the key itself is not decrypted: the digest names it
        for chunk in _chunks(list(by_digest), LOOKUP_CHUNK):
            for rec in _filter_in(model, index, chunk).values(*rest, index):
                value = by_digest[rec.pop(index)]
                rec[key] = value
                out[value] = rec
        return out
    for chunk in _chunks(values, LOOKUP_CHUNK):
        for rec in _filter_in(model, key, chunk).values(*cols):
            out[rec[key]] = rec
    return out


def _grade_from_hint(hint: bool | None, current: str) -> str:
    """是否危房户 without 住房安全等级: keep a grade that already agrees, else C (unsafe) or blank (safe)."""
    if hint is None:
        return current
    if hint:
        return current if current in _UNSAFE else "C"
    return "" if current in _UNSAFE else current


def build_plan(parsed: Parsed, *, scope_prefix: str, income_year: int | None) -> Plan:
    plan = Plan()
    hh_fields = list(parsed.household_fields)
    want_grade = any(h.grade_hint is not None for h in parsed.households.values())
    cmp_hh = [*hh_fields, *(["house_grade"] if want_grade and "house_grade" not in hh_fields else [])]
    existing_hh = _existing(Household, "household_no", list(parsed.households), ["village_id", *cmp_hh])
    for no, h in parsed.households.items():
        fields = dict(h.fields, village_id=h.village_code)
        cur = existing_hh.get(no)
        if cur is not None and not cur["village_id"].startswith(scope_prefix):
            plan.rejects.append(
                RowError(
                    h.first_row, "户编号", f"户编号{no}已登记在您管辖范围以外的行政村", no, E_OUT_OF_SCOPE
                )
            )
            continue
        if h.grade_hint is not None and "house_grade" not in hh_fields:
            fields["house_grade"] = _grade_from_hint(h.grade_hint, cur["house_grade"] if cur else "")
        if cur is None:
            plan.new_households.append({"household_no": no, "_row": h.first_row, **fields})
            plan.households.created += 1
            continue
        plan.household_ids[no] = cur["id"]
        changed = _changed(cur, fields)
        to_village = changed.pop("village_id", None)
        if to_village is not None:
            plan.moves[cur["id"]] = {
                "household_no": no,
                "from": cur["village_id"],
                "to": to_village,
                "row": h.first_row,
            }
        if changed:
            plan.changed_households[cur["id"]] = {"_row": h.first_row, **changed}
        if changed or to_village is not None:
            plan.households.updated += 1
        else:
            plan.households.unchanged += 1

    p_fields = [f for f in parsed.person_fields if f != "id_number"]
    existing_p = _existing(
        Person, "id_number", [p.id_number for p in parsed.persons], ["household_id", *p_fields]
    )
    hh_village = {
        rec["household_id"]: None for rec in existing_p.values()
    }  # households of existing persons: check scope in one query
    hh_number: dict[int, str] = {}
    for chunk in _chunks(list(hh_village), LOOKUP_CHUNK):
        for hid, vid, hno in _filter_in(Household, "id", chunk).values_list(
            "id", "village_id", "household_no"
        ):
            hh_village[hid] = vid
            hh_number[hid] = hno
    for p in parsed.persons:
        cur = existing_p.get(p.id_number)
        if cur is not None and not (hh_village.get(cur["household_id"]) or "").startswith(scope_prefix):
            plan.rejects.append(
                RowError(p.row, "证件号码", "该证件号码已登记在您管辖范围以外的户中", "", E_OUT_OF_SCOPE)
            )
            continue
        if cur is None:
            p.fields["_row"], p.fields["_household_no"] = p.row, p.household_no
            plan.new_persons.append(p.fields)  # no copy: 100k person dicts are the biggest structure
            plan.persons.created += 1
            continue
        target_hid = plan.household_ids.get(p.household_no)
        changed = _changed(cur, p.fields)
        if target_hid != cur["household_id"]:
            # listed under another (possibly new) household: a move only when the file states it
            old_no = hh_number.get(cur["household_id"], "")
            if not p.stated_change:
                plan.rejects.append(
                    RowError(
                        p.row,
                        "证件号码",
                        f"证件号码{mask_id_number(p.id_number)}已登记在户编号{old_no}，本文件列在户编号"
                        f"{p.household_no}下；成员迁移或分户须在“成员变更”列填写“迁移”或“分户”，"
                        "否则不予导入（导入不会自动把人员移到其他户）",
                        mask_id_number(p.id_number),
                        E_MEMBER_MOVE,
                    )
                )
                continue
            plan.member_moves[cur["id"]] = {
                "household_no": p.household_no,
                "from_household_no": old_no,
                "kind": p.stated_change,
                "row": p.row,
            }
        if changed:
            plan.changed_persons[cur["id"]] = {"_row": p.row, **changed}
            plan.persons.updated += 1
        else:
            plan.persons.unchanged += 1

    if income_year and parsed.income_fields:
        start, end = dt.date(income_year, 1, 1), dt.date(income_year, 12, 31)
        ids = list(plan.household_ids.values())
        existing_inc: dict[int, dict] = {}
        for chunk in _chunks(ids, LOOKUP_CHUNK):
            for rec in (
                _filter_in(IncomeRecord, "household", chunk)
                .filter(period_start=start, period_end=end)
                .values("id", "household_id", *parsed.income_fields)
            ):
                existing_inc[rec["household_id"]] = rec
        for no, h in parsed.households.items():
            if not h.income:
                continue
            amounts = {k: v for k, v in h.income.items() if k != "transfer_total"}
            cur = existing_inc.get(plan.household_ids.get(no, -1))
            if cur is None:
                plan.new_income.append(
                    {
                        "_household_no": no,
                        "_row": h.first_row,
                        "period_start": start,
                        "period_end": end,
                        **amounts,
                    }
                )
                plan.income.created += 1
                continue
            changed = _changed(cur, amounts)
            if changed:
                plan.changed_income[cur["id"]] = {"_row": h.first_row, **changed}
                plan.income.updated += 1
            else:
                plan.income.unchanged += 1
    return plan


def _ref(batch_id: int, row: int) -> str:
    return f"导入批次#{batch_id} 第{row}行"


def _provenance_items(ch: dict[str, Any], before: dict[str, dict]) -> Iterator[tuple[str, Any]]:
    """(field, value) per changed fact; a ``national_facts`` dict gives one per changed header
    (``national_facts.产业帮扶``), so every national column has its own provenance."""
    for k, v in ch.items():
        if k in before:
            old = before[k]
            for h in sorted(set(old) | set(v)):
                if old.get(h) != v.get(h):
                    yield f"{k}.{h}", v.get(h, "")
        else:
            yield k, v


def _update(
    model: type[Model],
    changes: dict[int, dict[str, Any]],
    *,
    actor,
    batch_id: int,
    now,
    on: dt.date,
    resolve=None,
) -> list[FactProvenance]:
    """Bulk update with one history row per changed object; returns field-level provenance rows."""
    if not changes:
        return []
    facts: list[FactProvenance] = []
    entity = {Household: "household", Person: "person", IncomeRecord: "income"}[model]
    ids = list(changes)
    for chunk in _chunks(ids, BATCH):
        objs = model.objects.in_bulk(chunk)
        touched: set[str] = set()
        batch_objs = []
        for pk in chunk:
            obj = objs[pk]
            ch = dict(changes[pk])
            row = ch.pop("_row")
            if "_household_no" in ch:
                ch["household_id"] = resolve(ch.pop("_household_no"))
            before = {k: getattr(obj, k) or {} for k, v in ch.items() if isinstance(v, dict)}
            for k, v in ch.items():
                setattr(obj, k, v)
            touched |= set(ch)
            obj.version += 1
            obj.updated_at = now
            obj.updated_by = actor
            obj.source_kind = SourceKind.IMPORT
            obj.source_ref = _ref(batch_id, row)
            obj.source_at = now
            batch_objs.append(obj)
            hid = obj.id if model is Household else obj.household_id
            for k, v in _provenance_items(ch, before):
                facts.append(
                    FactProvenance(
                        household_id=hid,
                        entity=entity,
                        entity_id=obj.id,
                        field=k.removesuffix("_id"),
                        value=mask_text_field(k, "" if v is None else str(v)),
                        source_kind=SourceKind.IMPORT,
                        source_ref=obj.source_ref,
                        observed_on=on,  # the import's business date, not the clock
                        recorded_by=actor,
                    )
                )
        fields = with_companions(
            model,
            sorted(
                touched | {"version", "updated_at", "updated_by", "source_kind", "source_ref", "source_at"}
            ),
        )
        bulk_update_with_history(
            batch_objs,
            model,
            fields,
            batch_size=500,
            default_user=actor,
            default_change_reason=f"导入批次#{batch_id}",
            default_date=now,
        )
    return facts


def _create(
    model: type[Model], rows: list[dict[str, Any]], *, actor, batch_id: int, now, resolve=None
) -> list[int]:
    """New rows with provenance and one history row each (``io.bulk``); returns their ids in order."""
    user_id = getattr(actor, "pk", None)
    for r in rows:  # the plan's own dicts, completed in place (no copies of 100k rows)
        row = r.pop("_row")
        if "_household_no" in r:
            r["household_id"] = resolve(r.pop("_household_no"))
        r["source_kind"] = SourceKind.IMPORT
        r["source_ref"] = _ref(batch_id, row)
        r["source_at"] = now
        r["updated_by_id"] = user_id
    return fast_create_with_history(
        model,
        rows,
        history_user_id=getattr(actor, "pk", None),
        change_reason=f"导入批次#{batch_id}",
        now=now,
    )


def _move(moves: dict[int, dict[str, Any]], *, actor, batch_id: int, on: dt.date) -> None:
    """A household the national file places in another village moves through ``do_household_move``, the
    service trust's approved moves use: its own history row (reason 迁移 A→B, no MemberChange), village
    provenance and a ``registry.household_move`` audit event at the old village. The other parts' open
    work follows it afterwards (``services.imports``), in the same transaction."""
    if not moves:
        return
    households = Household.objects.in_bulk(list(moves))
    for pk, m in moves.items():
        do_household_move(
            actor=actor,
            household=households[pk],
            to_village=m["to"],
            date=on,
            reason=f"导入批次#{batch_id}：国家系统数据中该户所在村已变更",
            source_kind=SourceKind.IMPORT,
            source_ref=_ref(batch_id, m["row"]),
        )


def apply_plan(plan: Plan, *, actor, batch_id: int, on: dt.date) -> dict[str, int]:
    """Writes the plan (the caller holds the transaction) as of the import's business date ``on`` (field
    provenance ``observed_on``, household moves). System timestamps (history, source_at) stay real time.
    Returns 户编号 → id of every household touched."""
    now = clock.now()
    hh_ids = dict(plan.household_ids)
    new_ids = _create(Household, plan.new_households, actor=actor, batch_id=batch_id, now=now)
    for h, pk in zip(plan.new_households, new_ids, strict=True):
        hh_ids[h["household_no"]] = pk
    resolve = hh_ids.__getitem__
    facts = _update(Household, plan.changed_households, actor=actor, batch_id=batch_id, now=now, on=on)
    _move(plan.moves, actor=actor, batch_id=batch_id, on=on)
    _create(Person, plan.new_persons, actor=actor, batch_id=batch_id, now=now, resolve=resolve)
    facts += _update(
        Person, plan.changed_persons, actor=actor, batch_id=batch_id, now=now, on=on, resolve=resolve
    )
    _create(IncomeRecord, plan.new_income, actor=actor, batch_id=batch_id, now=now, resolve=resolve)
    facts += _update(IncomeRecord, plan.changed_income, actor=actor, batch_id=batch_id, now=now, on=on)
    FactProvenance.objects.bulk_create(facts, batch_size=BATCH)
    return hh_ids
