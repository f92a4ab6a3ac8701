"""Querysets whose SQL is compiled once per process (no domain words).

A page such as the household file reads some twenty small lists, each ``Model.objects.filter(household_id=…)
.order_by(…)``, and Django spends most of their Python time building and compiling the same SQL again for each
request (~1–1.5 ms a queryset; the rows themselves are a tenth of that). ``precompiled_list(key, build, *args)``
builds ``build(*stand-ins)`` once, compiles it once per database alias, remembers where each stand-in sits among
the SQL's parameters (one or more places), and afterwards runs the same SQL with the arguments in their places,
through Django's own ``ModelIterable`` (``select_related`` included, the fields' converters applied as usual;
the converters themselves are worked out once per connection, as ``results_iter`` would each time).

What is kept across requests is SQL text, the compiler's column map and the columns' converters only: never a
row, never anything of the actor. So ``build`` must depend on its arguments alone (ints, texts or dates compared
with ``=``, ``<=``, ``IN (subquery)`` …, never inside a LIKE; no clock, no list of variable length): it is called
once, with the stand-ins, and what it read then is frozen into the SQL. Access checks stay where they are:
callers use this for rows of an object that already passed the gate, or the gate itself passes the actor's
region code as an argument (``accounts.access``)."""

from __future__ import annotations

import copy
import datetime as dt
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import FlatValuesListIterable, ModelIterable

# stands in for the argument while the SQL is compiled: an integer inside every integer column's range (an
# out-of-range one makes Django compile an always-false WHERE) that no id has
STAND_IN = -1_987_654_321


def _stand_in(kind: type, i: int) -> Any:
    """The i-th argument's stand-in of its kind: an integer no id has, a text no key or code is (a control
    character no form accepts; 12 characters, a village code's length, so ``accounts.scope`` builds a village's
    SQL with it), a date no record is dated."""
    if kind is int:
        return STAND_IN - i
    if kind is str:
        return f"\x1fstand-in{i:03d}"
    if kind is dt.date:
        return dt.date(1901, 1, 1 + i)
    raise TypeError(f"precompiled arguments are int, str or date, not {kind.__name__}")


def _kind(arg: Any) -> type:
    if isinstance(arg, bool) or arg is None:
        raise TypeError(f"precompiled arguments are int, str or date, not {type(arg).__name__}")
    for k in (int, str):
        if isinstance(arg, k):
            return k
    if type(arg) is dt.date:
        return dt.date
    raise TypeError(f"precompiled arguments are int, str or date, not {type(arg).__name__}")


def _prepared(arg: Any, kind: type, connection: Any) -> Any:
    """The argument as the compiler puts it among the parameters (a date as the backend stores it)."""
    if kind is int:
        return int(arg)
    if kind is dt.date:
        return connection.ops.adapt_datefield_value(arg)
    return str(arg)


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    iterable: type  # ModelIterable (instances) or FlatValuesListIterable (one column)
    queryset_class: type  # the builder's own (e.g. simple_history's HistoricalQuerySet)
    compiler: Any  # the SQLCompiler after as_sql(): select, klass_info, col_count are filled
    sql: str
    params: tuple
    kinds: tuple[type, ...]
    positions: tuple[tuple[int, ...], ...]  # per argument, its places among the parameters
    # per connection (a thread's own): the selected columns' converters, as ``results_iter`` would make them
    converters: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary, compare=False)


_ITERABLES = (ModelIterable, FlatValuesListIterable)
_CACHE: dict[tuple[str, str], _Compiled] = {}


class _Ready:
    """Stands in for a QuerySet's Query that is only iterated: hands out a compiler with the SQL ready."""

    def __init__(self, compiler: Any) -> None:
        self.compiler = compiler

    def get_compiler(self, using: str | None = None, connection: Any = None, elide_empty: bool = True) -> Any:
        return self.compiler


def _compile(key: str, build: Callable[..., QuerySet], alias: str, kinds: tuple[type, ...]) -> _Compiled:
    stand_ins = [_stand_in(k, i) for i, k in enumerate(kinds)]
    qs = build(*stand_ins)
    if qs.db != alias:
        raise ValueError(f"{key}: built for database {qs.db}, asked for {alias}")
    if qs._prefetch_related_lookups or qs._known_related_objects or qs._iterable_class not in _ITERABLES:
        raise ValueError(
            f"{key}: only plain model querysets or flat values_list (no prefetch, values or related manager)"
        )
    compiler = qs.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    if not sql:
        raise ValueError(f"{key}: no SQL (an always-empty queryset)")
    positions = []
    for s, k in zip(stand_ins, kinds, strict=True):
        prepared = _prepared(s, k, connections[alias])
        at = tuple(i for i, p in enumerate(params) if p == prepared)  # an Int8 equals its int
        if not at:
            raise ValueError(f"{key}: the argument {s!r} is not a parameter of the SQL (e.g. inside a LIKE)")
        positions.append(at)
    return _Compiled(
        qs.model, qs._iterable_class, type(qs), compiler, sql, tuple(params), kinds, tuple(positions)
    )


def precompiled_list(key: str, build: Callable[..., QuerySet], *args: Any, using: str = "default") -> list:
    """``list(build(*args))``, its SQL compiled once per process under ``key`` (one key, one ``build``); each
    argument (an int, a str or a date) may stand at several places of the SQL (each gets it). Arguments of
    other kinds in the same key compile anew (the key's entry is per kinds)."""
    if not args:
        raise TypeError("precompiled_list needs at least one argument")
    kinds = tuple(_kind(a) for a in args)
    c = _CACHE.get((key, using))
    if c is None or c.kinds != kinds:
        c = _CACHE[(key, using)] = _compile(key, build, using, kinds)
    connection = connections[using]
    params = list(c.params)
    for a, k, at in zip(args, kinds, c.positions, strict=True):
        value = _prepared(a, k, connection)
        for i in at:
            params[i] = value
    compiler = copy.copy(c.compiler)
    compiler.connection = connection  # this thread's connection, not the one that compiled it
    sql, bound = c.sql, tuple(params)
    compiler.as_sql = lambda *a, **k: (sql, bound)
    converters = c.converters.get(connection)
    if converters is None:
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        converters = c.converters[connection] = compiler.get_converters(fields)
    compiler.get_converters = lambda expressions: converters  # the same columns every time
    qs = c.queryset_class(model=c.model, query=_Ready(compiler), using=using)
    qs._iterable_class = c.iterable
    return list(qs)


def precompiled_first(key: str, build: Callable[..., QuerySet], *args: Any, using: str = "default") -> Any:
    """The first row of ``precompiled_list(key, build, *args)``, or None (``build`` slices to one row)."""
    rows = precompiled_list(key, build, *args, using=using)
    return rows[0] if rows else None


def precompiled_clear() -> None:
    """Forget every compiled statement (tests that change a model's SQL, e.g. a schema change)."""
    _CACHE.clear()


def precompiled_prefetch(instance: Model, name: str, key: str, build: Callable[[int], QuerySet]) -> None:
    """``prefetch_related_objects([instance], name)`` for a reverse foreign key (``hh.income_records``), the
    rows read by ``precompiled_list(key, build, instance.pk)``: ``build`` gives the same rows as the manager
    (``Model.objects.filter(<fk>_id=pk)``), and they are cached as Django's prefetch caches them — each row's
    foreign key set to ``instance``, the manager's queryset holding them."""
    manager = getattr(instance, name)
    cache = getattr(instance, "_prefetched_objects_cache", {})
    if manager.field.remote_field.cache_name in cache:
        return  # already prefetched: as prefetch_related_objects, not read again
    rows = precompiled_list(key, build, instance.pk)
    for r in rows:
        manager.field.set_cached_value(r, instance)
    qs = manager.get_queryset()
    qs._result_cache = rows
    qs._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[manager.field.remote_field.cache_name] = qs
