"""Integrity seals of decision records (INT-01, 等保 8.1.4.7 b; docs/parts/security.md).

A model that holds decisions (identification and elimination outcomes, each approval step, income figures,
assistance measures and their amounts) inherits ``IntegritySealed`` and names its canonical fields in
``SEAL_FIELDS``. Its ``integrity_mac`` column holds ``<key id>:<HMAC-SM3 hex>`` over

    model label ‖ primary key ‖ JSON of {field: canonical value}

so a row changed outside the application (raw SQL, a restored file edited by hand), a row's content copied
onto another row, or a blanked seal no longer verifies. The key never lives in the database
(``core.crypto.integrity_keys``: derived from the data keys, or ``FANGPIN_INTEGRITY_KEYS``).

Sealing happens in one place, below every write path the application has:

- ``save()`` (create, update, ``update_fields``) seals the row it wrote;
- the default manager's ``bulk_create``, ``bulk_update`` and ``QuerySet.update`` re-seal what they wrote
  (``update`` only when it touches a sealed field: moving open work to another village does not);
- the importer's COPY path (``registry.io.bulk``) computes the seal with the pre-allocated ids
  (``seal_for``).

Canonical values: decimals with the field's decimal places, dates in ISO form, JSON through the field's
encoder and back (what the database returns), foreign keys as their id — the same text whether the values
come from the instance that was saved or from the row read back on SQLite or PostgreSQL.

``integrity_verify`` streams every sealed row and yields the ones that fail; ``integrity_reseal`` re-seals
rows under the current key after a key rotation, and refuses rows that fail under every listed key.
Deleted rows: ``core.seal_checkpoint`` (a signed list of the ids that exist, kept outside the database).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar

from django.db import connections, models, transaction

from . import crypto

MAC_FIELD = "integrity_mac"
_CHUNK = 2000


# --- canonical form and the seal itself ---------------------------------------------------------------


def _canon_fn(field: models.Field) -> Callable[[Any], Any]:
    """The function giving one JSON-able form of a field's value, equal for the saved instance and the row
    read back (decimals and dates memoised per distinct value: an import repeats them on most rows)."""
    t = field.get_internal_type()
    if t in ("ForeignKey", "OneToOneField"):
        return _canon_fn(field.target_field)
    if t == "DecimalField":
        q = Decimal(1).scaleb(-field.decimal_places)
        to_python = field.to_python

        def dec(v: Any) -> str:
            return format((v if isinstance(v, Decimal) else to_python(v)).quantize(q), "f")

        return _memo(dec)
    if t == "DateField":
        return _memo(lambda v: (dt.date.fromisoformat(v) if isinstance(v, str) else v).isoformat())
    if t == "DateTimeField":
        return lambda v: field.to_python(v).isoformat()
    if t == "JSONField":
        encoder = field.encoder
        return lambda v: v if v == {} or v == [] else json.loads(json.dumps(v, cls=encoder))
    if t == "BooleanField":
        return bool
    if "IntegerField" in t or t in ("AutoField", "BigAutoField", "SmallAutoField"):
        return int
    return str


def _memo(fn: Callable[[Any], Any], limit: int = 4096) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def memo(v: Any) -> Any:
        try:
            return cache[(type(v), v)]
        except KeyError:
            out = cache[(type(v), v)] = fn(v)
            if len(cache) > limit:
                cache.clear()
            return out
        except TypeError:  # unhashable
            return fn(v)

    return memo


@lru_cache(maxsize=64)
def _plan(model: type[models.Model], names: tuple[str, ...] | None) -> tuple[str, tuple]:
    """(label, ((attname, canon function), …) in attname order) for a model's sealed fields."""
    fields = sorted(_seal_fields(model, names), key=lambda f: f.attname)
    return model._meta.label_lower, tuple((f.attname, _canon_fn(f)) for f in fields)


def _message(model: type[models.Model], pk: Any, get: Any, names: tuple[str, ...] | None = None) -> bytes:
    label, plan = _plan(model, names)
    body = {a: (None if (v := get(a)) is None else fn(v)) for a, fn in plan}
    # sort_keys for the nested documents too: PostgreSQL's jsonb gives keys back in its own order
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"fangpin:integrity\x1e{label}\x1e{pk}\x1e{text}".encode()


def _mac(key: bytes, message: bytes) -> str:
    h = crypto._keyed_sm3(key).copy()  # HMAC-SM3 keyed once per key (OpenSSL's SM3, else cryptography's)
    h.update(message)
    return h.hexdigest() if hasattr(h, "hexdigest") else h.finalize().hex()


def _seal_fields(model: type[models.Model], names: Iterable[str] | None = None) -> list[models.Field]:
    meta = model._meta
    return [meta.get_field(n) for n in (names if names is not None else model.SEAL_FIELDS)]


def seal_for(
    model: type[models.Model], pk: Any, values: dict[str, Any] | Any, *, fields: Sequence[str] | None = None
) -> str:
    """The seal of one row: ``values`` maps attnames to values (a ``.values()`` row, or an import row) or
    is the instance itself. ``fields``: the field names a migration froze (default ``SEAL_FIELDS``)."""
    kid, keys = crypto.integrity_keys()
    get = values.get if isinstance(values, Mapping) else (lambda a: getattr(values, a))
    return f"{kid}:{_mac(keys[kid], _message(model, pk, get, tuple(fields) if fields is not None else None))}"


def _check(model: type[models.Model], pk: Any, row: dict[str, Any]) -> str:
    """'' when the row's seal verifies, else the reason (Chinese)."""
    stored = row.get(MAC_FIELD) or ""
    if not stored:
        return "未加校验码（绕过应用写入或校验码被清除）"
    kid, _, mac = stored.partition(":")
    _, keys = crypto.integrity_keys()
    key = keys.get(kid)
    if key is None:
        return f"校验码所用密钥 {kid} 不在密钥列表中"
    expected = _mac(key, _message(model, pk, row.get))
    return "" if hmac.compare_digest(expected, mac) else "校验码不符（记录在应用之外被改动）"


def _write_macs(model: type[models.Model], pairs: list[tuple[str, Any]], using: str) -> None:
    """``UPDATE … SET integrity_mac`` for (mac, pk) pairs, below the ORM (no recursion into ``update``)."""
    if not pairs:
        return
    conn = connections[using]
    qn = conn.ops.quote_name
    sql = f"UPDATE {qn(model._meta.db_table)} SET {qn(MAC_FIELD)} = %s WHERE {qn(model._meta.pk.column)} = %s"  # noqa: S608
    with conn.cursor() as cur:
        cur.executemany(sql, pairs)


def reseal_rows(
    model: type[models.Model],
    pks: Iterable[Any] | None = None,
    *,
    using: str = "default",
    fields: Sequence[str] | None = None,
) -> int:
    """Re-computes and stores the seal of rows from what the database holds (after a write that did not
    go through ``save``; a migration's data step passes its frozen ``fields``). ``pks`` None = every row."""
    flds = _seal_fields(model, fields)
    names = [f.attname for f in flds]
    base = model._base_manager.using(using)
    pk_name = model._meta.pk.attname
    n = 0
    if pks is None:
        chunks: Iterable[Sequence[Any]] = [None]  # type: ignore[list-item]
    else:
        pks = list(pks)
        chunks = [pks[i : i + _CHUNK] for i in range(0, len(pks), _CHUNK)]
    for chunk in chunks:
        qs = base.all() if chunk is None else base.filter(pk__in=chunk)
        pairs = [
            (seal_for(model, r[pk_name], r, fields=fields), r[pk_name])
            for r in qs.values(pk_name, *names).iterator(chunk_size=_CHUNK)
        ]
        _write_macs(model, pairs, using)
        n += len(pairs)
    return n


# --- the model side ------------------------------------------------------------------------------------


def _touches_seal(model: type[models.Model], names: Iterable[str]) -> tuple[bool, bool]:
    """(any sealed field among ``names``, all of them)."""
    sealed = set(model.SEAL_FIELDS) | {model._meta.get_field(n).attname for n in model.SEAL_FIELDS}
    given = set(names)
    hit = bool(sealed & given)
    every = all(n in given or model._meta.get_field(n).attname in given for n in model.SEAL_FIELDS)
    return hit, every


class SealedQuerySet(models.QuerySet):
    """The default manager of a sealed model: its bulk writes re-seal what they wrote."""

    def update(self, **kwargs: Any) -> int:
        hit, _ = _touches_seal(self.model, kwargs)
        if not hit:
            return super().update(**kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            pks = list(self.values_list("pk", flat=True))
            n = super().update(**kwargs)
            reseal_rows(self.model, pks, using=self.db)
        return n

    update.alters_data = True

    def bulk_create(self, objs: Iterable[models.Model], *args: Any, **kwargs: Any) -> list[models.Model]:
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            out = super().bulk_create(objs, *args, **kwargs)
            with_pk = [o for o in out if o.pk is not None]
            pairs = []
            for o in with_pk:
                o.integrity_mac = seal_for(self.model, o.pk, o)
                pairs.append((o.integrity_mac, o.pk))
            _write_macs(self.model, pairs, self.db)
            if len(with_pk) < len(out):  # ignore_conflicts or a backend without RETURNING: find them
                reseal_rows(
                    self.model,
                    self.model._base_manager.using(self.db)
                    .filter(**{MAC_FIELD: ""})
                    .values_list("pk", flat=True),
                    using=self.db,
                )
        return out

    bulk_create.alters_data = True

    def bulk_update(
        self, objs: Iterable[models.Model], fields: Sequence[str], *args: Any, **kwargs: Any
    ) -> int:
        objs = list(objs)
        hit, every = _touches_seal(self.model, fields)
        if not hit:
            return super().bulk_update(objs, fields, *args, **kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            if every:  # every sealed value is the object's own: seal from it, in the same statement
                for o in objs:
                    o.integrity_mac = seal_for(self.model, o.pk, o)
                return super().bulk_update(objs, [*fields, MAC_FIELD], *args, **kwargs)
            n = super().bulk_update(objs, fields, *args, **kwargs)
            reseal_rows(self.model, [o.pk for o in objs], using=self.db)
            return n

    bulk_update.alters_data = True


class SealedManager(models.Manager.from_queryset(SealedQuerySet)):  # type: ignore[misc]
    pass


class IntegritySealed(models.Model):
    """A decision record: ``SEAL_FIELDS`` are covered by ``integrity_mac``; ``integrity_label()`` names the
    record in Chinese for the verify report (户编号, 办理程序编号 …)."""

    SEAL_FIELDS: ClassVar[tuple[str, ...]] = ()

    integrity_mac = models.CharField("完整性校验码", max_length=96, blank=True, default="", editable=False)

    objects = SealedManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or self._state.db or "default"
        fields = kwargs.get("update_fields")
        partial = False
        if fields is not None:
            hit, every = _touches_seal(type(self), fields)
            if not hit:
                return super().save(*args, **kwargs)
            partial = not every
        if self.pk is not None and not partial:
            self.integrity_mac = seal_for(type(self), self.pk, self)
            if fields is not None:
                kwargs["update_fields"] = [*fields, MAC_FIELD]
            return super().save(*args, **kwargs)
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
            if partial:  # the row holds sealed values this instance may not: seal what was stored
                reseal_rows(type(self), [self.pk], using=using)
                self.integrity_mac = (
                    type(self)._base_manager.using(using).values_list(MAC_FIELD, flat=True).get(pk=self.pk)
                )
            else:  # a new row: its id is known only now
                self.integrity_mac = seal_for(type(self), self.pk, self)
                _write_macs(type(self), [(self.integrity_mac, self.pk)], using)

    def integrity_label(self) -> str:
        return f"{self._meta.verbose_name}#{self.pk}"


# --- verify ------------------------------------------------------------------------------------------


def sealed_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, IntegritySealed)]


def model_by_name(name: str) -> type[models.Model]:
    """``registry.IncomeRecord`` / ``incomerecord`` / ``收入记录`` → the sealed model."""
    key = name.strip().lower()
    for m in sealed_models():
        if key in (m._meta.label_lower, m._meta.model_name, str(m._meta.verbose_name)):
            return m
    known = "、".join(f"{m._meta.label}（{m._meta.verbose_name}）" for m in sealed_models())
    from .errors import DomainError

    raise DomainError("integrity_model", f"没有受校验的记录类型 {name}；可选：{known}")


@dataclass(frozen=True)
class Tampered:
    model: str  # app_label.ModelName
    name: str  # 中文 record type
    pk: Any
    label: str  # which record, in Chinese (户编号 …)
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "name": self.name,
            "pk": self.pk,
            "label": self.label,
            "reason": self.reason,
        }


@dataclass
class VerifyResult:
    checked: dict[str, int]
    tampered: list[Tampered]  # rows that fail their seal, and rows deleted since a checkpoint anchored them
    # core.seal_checkpoint, filled by run_integrity_verify: unreadable or unsigned lines, lines read, written
    checkpoint_problems: list[str] = dataclasses.field(default_factory=list)
    checkpoint_lines: int = 0
    checkpoint_written: bool = False

    @property
    def ok(self) -> bool:
        return not self.tampered and not self.checkpoint_problems


def _label(model: type[models.Model], pk: Any, using: str) -> str:
    try:
        return model._base_manager.using(using).get(pk=pk).integrity_label()
    except Exception as e:  # noqa: BLE001 - a row too damaged to load is still named by its id
        return f"{model._meta.verbose_name}#{pk}（无法读取：{type(e).__name__}）"


def integrity_iter(
    models_: Sequence[type[models.Model]] | None = None, *, using: str = "default"
) -> Iterator[tuple[type[models.Model], Any, dict[str, Any], str]]:
    """(model, pk, row, reason) for every sealed row, streamed; reason '' = verifies."""
    for model in models_ or sealed_models():
        fields = _seal_fields(model)
        pk_name = model._meta.pk.attname
        qs = model._base_manager.using(using).order_by(pk_name)
        for row in qs.values(pk_name, MAC_FIELD, *[f.attname for f in fields]).iterator(chunk_size=_CHUNK):
            yield model, row[pk_name], row, _check(model, row[pk_name], row)


def integrity_verify(
    models_: Sequence[type[models.Model]] | None = None, *, using: str = "default"
) -> VerifyResult:
    """Every sealed row recomputed; the rows that fail, each named in Chinese."""
    checked: dict[str, int] = {m._meta.label: 0 for m in models_ or sealed_models()}
    bad: list[Tampered] = []
    for model, pk, _row, reason in integrity_iter(models_, using=using):
        checked[model._meta.label] += 1
        if reason:
            bad.append(
                Tampered(
                    model._meta.label, str(model._meta.verbose_name), pk, _label(model, pk, using), reason
                )
            )
    return VerifyResult(checked, bad)


@dataclass
class ResealResult:
    resealed: dict[str, int]
    refused: list[Tampered]


def integrity_reseal(
    models_: Sequence[type[models.Model]] | None = None,
    *,
    include_unsealed: bool = False,
    using: str = "default",
) -> ResealResult:
    """After a key rotation: rows that verify under a listed older key get a seal under the current one.
    A row that fails under every key is *not* re-sealed (that would bless the tampering) and is returned;
    an unsealed row only with ``include_unsealed`` (rows written before sealing existed, by an operator who
    vouches for them)."""
    kid, _ = crypto.integrity_keys()
    done: dict[str, int] = {}
    refused: list[Tampered] = []
    with transaction.atomic(using=using):
        for model in models_ or sealed_models():
            todo = []
            for _m, pk, row, reason in integrity_iter([model], using=using):
                stored = row.get(MAC_FIELD) or ""
                if not reason and stored.partition(":")[0] == kid:
                    continue
                if reason and not (include_unsealed and not stored):
                    refused.append(
                        Tampered(
                            model._meta.label,
                            str(model._meta.verbose_name),
                            pk,
                            _label(model, pk, using),
                            reason,
                        )
                    )
                    continue
                todo.append(pk)
            done[model._meta.label] = reseal_rows(model, todo, using=using)
    return ResealResult(done, refused)
