"""Model fields for personal data encrypted at rest (``core.crypto``; docs/parts/security.md).

``EncryptedCharField`` stores an SM4-GCM token; the Python attribute stays the plaintext (``from_db_value``
decrypts, saving encrypts), so ``person.id_number`` reads as before. Two companion columns make it findable:

- ``BlindIndexField(source="id_number")`` (``kind="full"``): HMAC-SM3 of the normalised value, carrying the
  uniqueness and every exact lookup;
- ``BlindIndexField(source="id_number", kind="tail")``: HMAC-SM3 of the last four characters (search by 尾号);
- ``BlindIndexField(source="id_number", kind="canonical")``: HMAC-SM3 of the *canonical* number
  (``core.ids.canonical_id_number``: a 15-digit legacy number upgraded, full-width digits folded), equal to the
  full index for a canonical number — two records of one person share it, so duplicates are one indexed
  lookup instead of decrypting the registry.

Companion values are derived from the plaintext attribute whenever they are read (memoised per value), so a
changed ``person.phone`` saves a matching index with ``save()``, ``bulk_create`` and ``bulk_update`` alike —
as long as the index columns are among the saved fields (``with_companions``). ``QuerySet.update(phone=…)``
would bypass them: do not use it on these fields.

Lookups: ``filter(id_number=x)``, ``filter(id_number__in=[…])`` and ``persons__id_number=x`` are rewritten to the
blind index (the plaintext never reaches SQL); ``isnull`` works on the token column; every other lookup
(``contains``, ``startswith``, ``regex``, ordering by value …) is refused with a FieldError — a ciphertext cannot
be compared. Use ``registry.selectors.persons_by_id_number`` for the common case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In, Lookup
from django.db.models.query_utils import DeferredAttribute

from . import crypto


class EncryptedCharField(models.CharField):
    description = "SM4-GCM encrypted text (plaintext in Python)"

    def __init__(
        self, *args: Any, purpose: str, plain_max_length: int = 20, index: str | None = None, **kwargs: Any
    ) -> None:
        self.purpose = purpose
        self.plain_max_length = plain_max_length
        self.index = index  # the name of the BlindIndexField (kind full) exact lookups use
        kwargs.setdefault("max_length", 128)
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(plain_max_length))

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        kwargs["plain_max_length"] = self.plain_max_length
        if self.index:
            kwargs["index"] = self.index
        if kwargs.get("max_length") == 128:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.decrypt(value, self.purpose)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if not value:
            return value
        return crypto.encrypt(str(value), self.purpose)

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"max_length": self.plain_max_length, **kwargs})

    def get_lookup(self, lookup_name: str) -> type[Lookup] | None:
        if lookup_name == "exact":
            return EncryptedExact
        if lookup_name == "in":
            return EncryptedIn
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None  # Django raises FieldError "Unsupported lookup …"

    def get_transform(self, lookup_name: str) -> Any:
        return None


class _DerivedAttribute(DeferredAttribute):
    """A blind-index attribute: derived from its source's plaintext when that is loaded, else the stored
    column (a query that deferred the source)."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        f = self.field
        d = instance.__dict__
        if f.source in d:
            plain = d[f.source]
            memo = d.get(f.memo_key)
            if memo is not None and memo[0] == plain:
                return memo[1]
            value = f.derive(plain, instance._meta.get_field(f.source).purpose)
            d[f.memo_key] = (plain, value)
            return value
        return super().__get__(instance, cls)

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class BlindIndexField(models.CharField):
    """HMAC-SM3 digest of an ``EncryptedCharField``'s value (``kind`` full) or of its last four characters
    (``kind`` tail), or of its canonical ID-number form (``kind`` canonical). Not editable; always derived
    from the source."""

    descriptor_class = _DerivedAttribute
    description = "HMAC-SM3 blind index"

    def __init__(self, *args: Any, source: str, kind: str = "full", **kwargs: Any) -> None:
        if kind not in ("full", "tail", "canonical"):
            raise ValueError(kind)
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", 2 * (crypto.TAIL_BYTES if kind == "tail" else crypto.FULL_BYTES))
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    @property
    def memo_key(self) -> str:
        return f"_derived_{self.attname}"

    def derive(self, plain: str | None, purpose: str) -> str | None:
        if self.kind == "full":
            return crypto.blind_index(plain, purpose)
        if self.kind == "canonical":
            from .ids import canonical_id_number

            return crypto.blind_index(canonical_id_number(plain), purpose) if plain else None
        return crypto.tail_index(plain, purpose)

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        for k, v in (("null", True), ("blank", True), ("editable", False)):
            if kwargs.get(k, not v) == v:
                kwargs.pop(k, None)
        return name, path, args, kwargs


def _index_col(lhs: Any) -> tuple[Col, EncryptedCharField]:
    if not isinstance(lhs, Col) or not isinstance(lhs.target, EncryptedCharField):
        raise FieldError("加密字段只能直接按完整值查询")
    f = lhs.target
    if not f.index:
        raise FieldError(f"加密字段 {f.name} 没有盲索引，不能按值查询")
    idx = f.model._meta.get_field(f.index)
    return Col(lhs.alias, idx, idx), f


def _plain_values(rhs: Any) -> list[str]:
    if hasattr(rhs, "resolve_expression") or hasattr(rhs, "query"):
        raise FieldError("加密字段不能与表达式或子查询比较（请先取出明文再按盲索引查询）")
    return [str(v) for v in rhs if v is not None]


class EncryptedExact(Lookup):
    """``field = value`` → ``field_index = HMAC(value)``; ``field = ''`` compares the (unencrypted) empty token."""

    lookup_name = "exact"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        (value,) = _plain_values([self.rhs])
        if value == "":
            return compiler.compile(Exact(self.lhs, ""))
        col, f = _index_col(self.lhs)
        digests = crypto.blind_index_all(value, f.purpose)  # every listed index key (rotation)
        if len(digests) == 1:
            return compiler.compile(Exact(col, digests[0]))
        return compiler.compile(In(col, digests))


class EncryptedIn(Lookup):
    lookup_name = "in"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        values = _plain_values(self.rhs)
        col, f = _index_col(self.lhs)
        digests = sorted({d for v in values for d in crypto.blind_index_all(v, f.purpose)})
        parts: list[tuple[str, list]] = []
        if digests:
            parts.append(compiler.compile(In(col, digests)))
        if "" in values:
            parts.append(compiler.compile(Exact(self.lhs, "")))
        if not parts:
            from django.core.exceptions import EmptyResultSet

            raise EmptyResultSet
        if len(parts) == 1:
            return parts[0]
        return "(" + " OR ".join(s for s, _ in parts) + ")", [p for _, ps in parts for p in ps]


def companions(model: type[models.Model], name: str) -> list[str]:
    """The blind-index fields derived from field ``name`` of ``model`` (none for an ordinary field)."""
    return [
        f.name for f in model._meta.concrete_fields if isinstance(f, BlindIndexField) and f.source == name
    ]


def with_companions(model: type[models.Model], fields: Iterable[str]) -> list[str]:
    """``fields`` plus the blind indexes of any encrypted field among them: what ``bulk_update`` and
    ``save(update_fields=…)`` must write so the indexes stay true."""
    out = list(fields)
    for name in list(out):
        for c in companions(model, name):
            if c not in out:
                out.append(c)
    return out


def encrypted_fields(model: type[models.Model]) -> list[EncryptedCharField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]


SEALED_KEYS = {"id_number": "id_number", "phone": "phone", "applicant_phone": "phone"}


def _purpose_of(key: str) -> str | None:
    if key in SEALED_KEYS:
        return SEALED_KEYS[key]
    if key.endswith("_id_number") or key == "证件号码":
        return "id_number"
    if key.endswith(("_phone", "联系电话")):  # 户联系电话, 信息采集人联系电话 (national_facts) …
        return "phone"
    return None


def seal(value: Any) -> Any:
    """A JSON value with every ID number / phone (by key: ``id_number``, ``phone``, ``*_phone``, 证件号码 …)
    replaced by its SM4-GCM token, at any depth."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            purpose = _purpose_of(str(k))
            if purpose and isinstance(v, str) and v and not crypto.is_token(v):
                out[k] = crypto.encrypt(v, purpose)
            else:
                out[k] = seal(v)
        return out
    if isinstance(value, list):
        return [seal(v) for v in value]
    return value


def unseal(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            purpose = _purpose_of(str(k))
            if purpose and isinstance(v, str) and crypto.is_token(v):
                out[k] = crypto.decrypt(v, purpose)
            else:
                out[k] = unseal(v)
        return out
    if isinstance(value, list):
        return [unseal(v) for v in value]
    return value


class SealedJSONField(models.JSONField):
    """A JSON document (change request payload, self-application) whose ID numbers and phones are encrypted
    at rest by key (``seal``); Python sees the plain document. Not for SQL lookups into those keys."""

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(seal(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return unseal(super().from_db_value(value, expression, connection))
