"""Reads over the registry. Every function that serves a user takes the actor and starts from ``scoped``."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from fangpin.accounts.access import access_object
from fangpin.accounts.scope import scoped
from fangpin.core.memo import memo_get
from fangpin.core.precompiled import precompiled_list

from .choices import MEMBER_IN_KINDS
from .models import Household, MemberChange, Person


def household_list(*, actor, village_prefix: str | None = None) -> QuerySet[Household]:
    qs = scoped(actor, Household.objects.select_related("village"))
    if village_prefix:
        qs = qs.filter(village__code__startswith=village_prefix)
    return qs


def person_list(*, actor) -> QuerySet[Person]:
    return scoped(actor, Person.objects.select_related("household"))


def persons_by_id_number(
    id_numbers: str | Iterable[str], *, actor=None, qs: QuerySet[Person] | None = None
) -> QuerySet[Person]:
    """Persons whose 证件号码 is exactly one of ``id_numbers`` (spaces/hyphens ignored, x = X), through the
    blind index: the one lookup by full ID number for every caller (ID numbers are encrypted at rest, so
    ``contains``/``startswith`` are refused). With ``actor`` the result goes through the scope gate;
    internal callers (import matching, jobs) pass ``qs`` or nothing."""
    values = [id_numbers] if isinstance(id_numbers, str) else list(id_numbers)
    base = qs if qs is not None else Person.objects.all()
    if actor is not None:
        base = scoped(actor, base)
    return base.filter(id_number__in=values)


def identifier_q(q: str, *, prefix: str = "") -> Q:
    """A search text against the encrypted identifiers: a full 18/15-character ID number or a full phone
    (exact, blind index), or exactly the last four characters of either (尾号, tail index). ``prefix`` is
    the relation path (``persons__``). Other fragments (region prefix, birth-date digits, three digits)
    match nothing here — they are not stored in a searchable form (docs/parts/security.md)."""
    from fangpin.core import crypto

    text = crypto.normalize(q or "")
    cond = Q(pk__in=[])
    if len(text) == crypto.TAIL_LEN:
        # every listed index key: rows re-indexed by a running rotation and rows not yet both match
        cond |= Q(**{f"{prefix}id_number_tail__in": crypto.tail_index_all(text, "id_number")})
        cond |= Q(**{f"{prefix}phone_tail__in": crypto.tail_index_all(text, "phone")})
    elif len(text) > crypto.TAIL_LEN:
        cond |= Q(**{f"{prefix}id_number_bidx__in": crypto.blind_index_all(text, "id_number")})
        cond |= Q(**{f"{prefix}phone_bidx__in": crypto.blind_index_all(text, "phone")})
    return cond


def household_phone_q(q: str) -> Q:
    """``identifier_q`` for the household's own 户联系电话 (full number or last four)."""
    from fangpin.core import crypto

    text = crypto.normalize(q or "")
    if len(text) == crypto.TAIL_LEN:
        return Q(phone_tail__in=crypto.tail_index_all(text, "phone"))
    if len(text) > crypto.TAIL_LEN:
        return Q(phone_bidx__in=crypto.blind_index_all(text, "phone"))
    return Q(pk__in=[])


def household_get(*, actor, household_id: int) -> Household:
    return access_object(actor, Household, household_id, what="户")


def _end_of_day(d: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(d, dt.time.max))


# Fields that say nothing about the household: never "facts in effect".
_BOOKKEEPING = {"version", "created_at", "updated_by_id", "effective_on"}


def _in_effect(versions: list[Any], on: dt.date) -> Any | None:
    """The record's facts in effect on ``on`` from its history ``versions`` (recording order).

    Each version takes effect on the ``effective_on`` it states (``Effective.take_effect``), else on the
    day it was recorded; the first version without a date holds since always. Per field, the value counted is that of the latest-effective version that changed the field
    (ties: the later recorded), so a back-dated entry changes exactly the fields it changed, from its
    effective date on, and a later ordinary edit keeps its own date. None when the record did not exist
    yet on ``on`` or was deleted.

    What each version changed does not depend on ``on`` (``_effect_steps``, worked out once per request for
    the same versions, ``core.memo``); nor does the outcome for two days on which the same versions are in
    effect (kept beside the steps: a household file asks for the same person on five days). Every call
    returns its own instance (callers set ``is_member`` on it)."""
    if not versions:
        return None
    steps = _effect_steps(versions)
    first = steps["entries"][0][0]
    if first is not None and first > on:
        return None  # e.g. born, married in or moved in after ``on``
    applied = tuple(i for i, (eff, _key, _changes) in enumerate(steps["entries"]) if eff is None or eff <= on)
    hit = steps["outcomes"].get(applied)
    if hit is None:
        best: dict[str, tuple[tuple, Any]] = {}
        for i in applied:
            _eff, key, changes = steps["entries"][i]
            for n, value in changes:
                if n not in best or key > best[n][0]:
                    best[n] = (key, value)
        if best.get("_deleted", (None, False))[1]:
            hit = steps["outcomes"][applied] = (None,)
        else:
            obj = history_instance(versions[-1])
            for n, (_key, value) in best.items():
                if n != "_deleted" and n not in _BOOKKEEPING:
                    setattr(obj, n, value)
            hit = steps["outcomes"][applied] = (obj,)
    return None if hit[0] is None else _instance_copy(hit[0])


def _instance_copy(obj: Any) -> Any:
    """A new instance with the same field values and cached relations as ``obj`` (what ``Model.__init__``
    with those values gives, without its per-field work; the kept one stays as it was)."""
    new = obj.__class__.__new__(obj.__class__)
    new.__dict__.update(obj.__dict__)
    new._state = copy.copy(obj._state)
    new._state.fields_cache = obj._state.fields_cache.copy()
    return new


def _effect_steps(versions: list[Any]) -> dict:
    """Per version in recording order: (the day it takes effect — None: since always —, its ordering key, the
    fields it changed against the version before it with their values, ``_deleted`` included when that
    changed). Memoised per request by the versions' history ids (history rows are never rewritten)."""
    memo = memo_get("registry.effect_steps")
    mkey = (type(versions[0]), tuple(v.history_id for v in versions))
    if memo is not None and mkey in memo:
        return memo[mkey]
    tracked = {f.attname for f in type(versions[0])._meta.concrete_fields}
    names = [f.attname for f in versions[0].instance_type._meta.concrete_fields if f.attname in tracked]
    entries = []
    prev = None
    for i, v in enumerate(versions):
        eff = v.effective_on if v.effective_on is not None or i == 0 else timezone.localdate(v.history_date)
        key = (eff or dt.date.min, v.history_date, v.history_id)
        if prev is None:
            changes = [(n, getattr(v, n)) for n in names]
        else:
            changes = [(n, getattr(v, n)) for n in names if getattr(v, n) != getattr(prev, n)]
        deleted = v.history_type == "-"
        if prev is None or deleted != (prev.history_type == "-"):
            changes.append(("_deleted", deleted))
        entries.append((eff, key, changes))
        prev = v
    out = {"entries": entries, "outcomes": {}}
    if memo is not None:
        memo[mkey] = out
    return out


def history_instance(version: Any) -> Any:
    """The model instance a history row describes — ``version.instance`` without its read of the row's
    ``updated_at`` (excluded from the history: simple_history fetches it from the live row, one query per
    instance, ten for a two-member household file). ``updated_at`` is the time this version was recorded."""
    model = version.instance_type
    attrs = {f.attname: getattr(version, f.attname) for f in version.tracked_fields}
    if "updated_at" not in attrs and any(f.attname == "updated_at" for f in model._meta.concrete_fields):
        attrs["updated_at"] = version.history_date
    obj = model(**attrs)
    setattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME, version)  # as simple_history's instance
    return obj


def history_versions(model, ids, known_on: dt.date | None) -> dict[int, list[Any]]:
    qs = model.history.filter(id__in=ids)
    if known_on is not None:
        qs = qs.filter(history_date__lte=_end_of_day(known_on))
    out: dict[int, list[Any]] = {}
    for h in qs.order_by("id", "history_date", "history_id"):
        out.setdefault(h.id, []).append(h)
    return out


def household_as_of(household_id: int, on: dt.date, *, known_on: dt.date | None = None) -> Household | None:
    """The household's facts in effect on ``on`` (None if it did not exist yet) — as known now, or, with
    ``known_on``, as the system knew them at the end of that day (audit, 明白纸 reprints)."""
    if (
        known_on is None
    ):  # as known now: the versions by the household's id, the SQL compiled once per process
        versions = precompiled_list("registry.household_versions", _household_versions, household_id)
    else:
        versions = history_versions(Household, [household_id], known_on).get(household_id, [])
    return _in_effect(versions, on)


def _household_versions(h: int):
    return Household.history.filter(id=h).order_by("id", "history_date", "history_id")


def members_as_of(household_id: int, on: dt.date, *, known_on: dt.date | None = None) -> list[Person]:
    """Members of the household on ``on`` (births, deaths, marriages and moves by their effective dates),
    as known now or, with ``known_on``, as known at the end of that day.

    Membership follows the person's 自然增加/减少 (MemberChange: effective ``date``, recorded
    ``created_at``) when there are any: the latest change on or before ``on`` decides; before a person's
    first change they belong where that change says they came from (an entry: nowhere yet). A person
    without changes is a member as their version in effect on ``on`` says (``_in_effect``)."""
    memo = memo_get("registry.members_as_of")
    key = (household_id, on, known_on)
    if memo is not None and key in memo:
        return list(memo[key])
    out = _members_on(*_member_inputs(household_id, known_on), household_id=household_id, on=on)
    if memo is not None:
        memo[key] = out
        return list(out)
    return out


def member_counts_as_of(
    household_id: int, dates: list[dt.date], *, known_on: dt.date | None = None
) -> dict[dt.date, int]:
    """``len(members_as_of(household_id, d))`` for several days, reading the history once (the household
    file asks for four months)."""
    inputs = _member_inputs(household_id, known_on)
    return {d: len(_members_on(*inputs, household_id=household_id, on=d)) for d in dates}


def _member_inputs(household_id: int, known_on: dt.date | None) -> tuple[dict, dict]:
    """The household's member changes and person history, read once per request (``core.memo``: the
    income table, 三保障 and the labour count of one page or one case step all ask for them)."""
    memo = memo_get("registry.member_inputs")
    key = (household_id, known_on)
    if memo is not None and key in memo:
        return memo[key]
    out = _member_inputs_read(household_id, known_on)
    if memo is not None:
        memo[key] = out
    return out


def _member_inputs_read(household_id: int, known_on: dt.date | None) -> tuple[dict, dict]:
    if known_on is None:
        return _member_inputs_now(household_id)
    changes_qs = MemberChange.objects.filter(created_at__lte=_end_of_day(known_on))
    ids = set(Person.history.filter(household_id=household_id).values_list("id", flat=True))
    ids |= set(changes_qs.filter(household_id=household_id).values_list("person_id", flat=True))
    changes: dict[int, list[MemberChange]] = {}
    for c in changes_qs.filter(person_id__in=ids).order_by("date", "id"):
        changes.setdefault(c.person_id, []).append(c)
    return changes, history_versions(Person, ids, known_on)


def _member_inputs_now(household_id: int) -> tuple[dict, dict]:
    """``_member_inputs_read`` as known now, the same rows: the persons are those of the household's person
    history and those its member changes name; their changes and versions are read for each of the two sets
    by a subquery on the household's id (four lists, each one's SQL compiled once per process) and merged."""
    versions: dict[int, Any] = {}
    for key, build in (("history", _versions_by_history), ("changes", _versions_by_changes)):
        for v in precompiled_list(f"registry.member_versions.{key}", build, household_id):
            versions[v.history_id] = v
    by_person: dict[int, list[Any]] = {}
    for v in sorted(versions.values(), key=lambda v: (v.id, v.history_date, v.history_id)):
        by_person.setdefault(v.id, []).append(v)
    rows: dict[int, MemberChange] = {}
    for key, build in (("history", _changes_by_history), ("changes", _changes_by_changes)):
        for c in precompiled_list(f"registry.member_changes.{key}", build, household_id):
            rows[c.pk] = c
    changes: dict[int, list[MemberChange]] = {}
    for c in sorted(rows.values(), key=lambda c: (c.date, c.pk)):
        changes.setdefault(c.person_id, []).append(c)
    return changes, by_person


def _ids_in_history(h: int):
    return Person.history.filter(household_id=h).values("id")


def _ids_in_changes(h: int):
    return MemberChange.objects.filter(household_id=h).values("person_id")


def _versions_by_history(h: int):
    return Person.history.filter(id__in=_ids_in_history(h)).order_by("id", "history_date", "history_id")


def _versions_by_changes(h: int):
    return Person.history.filter(id__in=_ids_in_changes(h)).order_by("id", "history_date", "history_id")


def _changes_by_history(h: int):
    return MemberChange.objects.filter(person_id__in=_ids_in_history(h)).order_by("date", "id")


def _changes_by_changes(h: int):
    return MemberChange.objects.filter(person_id__in=_ids_in_changes(h)).order_by("date", "id")


def _members_on(changes: dict, versions_by_id: dict, *, household_id: int, on: dt.date) -> list[Person]:
    out: list[Person] = []
    for pid, versions in sorted(versions_by_id.items()):
        p = person_in_effect(versions, changes.get(pid), on)
        if p is not None and p.is_member and p.household_id == household_id:
            out.append(p)
    return out


def person_in_effect(versions: list[Any], changes: list[MemberChange] | None, on: dt.date) -> Person | None:
    """One person on ``on`` from their history ``versions`` and member ``changes`` (ordered by date, id):
    their facts in effect, with ``is_member`` / ``household_id`` as the latest change on or before ``on``
    says (see ``members_as_of``). The single definition ``members_as_of`` and the what-if export share."""
    p = _in_effect(versions, on)
    if p is None:
        return None
    if changes:
        member, where = membership_on(changes, on)
        p.is_member, p.household_id = member, where if where is not None else p.household_id
    return p


def membership_on(changes: list[Any], on: dt.date) -> tuple[bool, int | None]:
    """(is_member, household id or None: unchanged) on ``on`` as a person's member ``changes`` (ordered by
    date, id; anything with ``date``, ``kind`` and ``household_id``) say: the latest change on or before
    ``on`` decides; before the first one the person belongs where it says they came from (an entry:
    nowhere yet). ``person_in_effect``'s membership, also read by the what-if's set-based export."""
    past = [c for c in changes if c.date <= on]
    if past:
        return past[-1].kind in MEMBER_IN_KINDS, past[-1].household_id
    if changes[0].kind in MEMBER_IN_KINDS:
        return False, None
    return True, changes[0].household_id


def version_effective_dates(vs: list[tuple]) -> list[dt.date | None]:
    """The day each history version takes effect, for rows (history_date, history_id, history_type,
    effective_on, *values) in recording order: its stated ``effective_on``, else the day it was recorded;
    the first one without a date holds since always (None). As ``_effect_steps`` reads model instances."""
    return [v[3] if v[3] is not None or i == 0 else timezone.localdate(v[0]) for i, v in enumerate(vs)]


def values_in_effect(vs: list[tuple], effs: list[dt.date | None], on: dt.date) -> tuple | None:
    """``_in_effect`` on plain rows: the values (``vs[i][4:]``) in effect on ``on`` from a record's history
    rows (history_date, history_id, history_type, effective_on, *values) in recording order, with
    ``effs = version_effective_dates(vs)`` — per field, the value of the latest-effective version that
    changed it (ties: the later recorded); None before the first version took effect or after a deletion.
    Each field's value depends on that field alone, so any subset of a model's fields gives the values
    ``_in_effect`` gives for them, without model instances (the risk facts, the what-if's spells)."""
    if effs[0] is not None and effs[0] > on:
        return None  # e.g. born, married in or moved in after ``on``
    n = len(vs[0]) - 4
    best: list[tuple | None] = [None] * n
    values: list[Any] = [None] * n
    deleted: tuple | None = None
    gone = False
    prev = None
    for i, v in enumerate(vs):
        eff = effs[i]
        if eff is None or eff <= on:
            key = (eff or dt.date.min, v[0], v[1])
            for j in range(n):
                if (prev is None or v[4 + j] != prev[4 + j]) and (best[j] is None or key > best[j]):
                    best[j], values[j] = key, v[4 + j]
            dead = v[2] == "-"
            if (prev is None or dead != (prev[2] == "-")) and (deleted is None or key > deleted):
                deleted, gone = key, dead
        prev = v
    return None if gone else tuple(values)


def member_count(household: Household) -> int:
    return household.persons.filter(is_member=True).count()


def import_batch_list(*, actor) -> QuerySet:
    """The user's own import batches, newest first (a batch belongs to who uploaded it)."""
    from .models import ImportBatch

    return ImportBatch.objects.filter(created_by=actor).order_by("-id")


def import_batch_get(*, actor, batch_id: int):
    from fangpin.core.errors import NotFound

    from .models import ImportBatch

    batch = ImportBatch.objects.filter(pk=batch_id, created_by=actor).first()
    if batch is None:
        raise NotFound("导入批次")
    return batch
