"""Querysets whose SQL is compiled once per process (no domain words).

A page such as the household file reads some twenty small lists, each ``Model.objects.filter(household_id=…)
.order_by(…)``, and Django spends most of their Python time building and compiling the same SQL again for each
request (~1–1.5 ms a queryset; the rows themselves are a tenth of that). ``precompiled_list(key, build, arg)``
builds ``build(stand-in)`` once, compiles it once per database alias, remembers where the stand-in sits among
the SQL's parameters (one or more places), and afterwards runs the same SQL with ``arg`` in its place, through Django's own
``ModelIterable`` (``select_related`` included, the fields' converters applied as usual).

What is kept across requests is SQL text and the compiler's column map only: never a row, never anything of
the actor. So ``build`` must depend on ``arg`` alone (no actor, no scope, no date or clock, no list of
variable length): it is called once, with the stand-in, and what it read then is frozen into the SQL.
Access checks stay where they are: callers use this for rows of an object that already passed the gate."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import FlatValuesListIterable, ModelIterable

# stands in for the argument while the SQL is compiled: an integer inside every integer column's range (an
# out-of-range one makes Django compile an always-false WHERE) that no id has
STAND_IN = -1_987_654_321


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    iterable: type  # ModelIterable (instances) or FlatValuesListIterable (one column)
    queryset_class: type  # the builder's own (e.g. simple_history's HistoricalQuerySet)
    compiler: Any  # the SQLCompiler after as_sql(): select, klass_info, col_count are filled
    sql: str
    params: tuple
    positions: tuple[int, ...]


_ITERABLES = (ModelIterable, FlatValuesListIterable)
_CACHE: dict[tuple[str, str], _Compiled] = {}


class _Ready:
    """Stands in for a QuerySet's Query that is only iterated: hands out a compiler with the SQL ready."""

    def __init__(self, compiler: Any) -> None:
        self.compiler = compiler

    def get_compiler(self, using: str | None = None, connection: Any = None, elide_empty: bool = True) -> Any:
        return self.compiler


def _compile(key: str, build: Callable[[int], QuerySet], alias: str) -> _Compiled:
    qs = build(STAND_IN)
    if qs.db != alias:
        raise ValueError(f"{key}: built for database {qs.db}, asked for {alias}")
    if qs._prefetch_related_lookups or qs._known_related_objects or qs._iterable_class not in _ITERABLES:
        raise ValueError(
            f"{key}: only plain model querysets or flat values_list (no prefetch, values or related manager)"
        )
    compiler = qs.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    positions = tuple(i for i, p in enumerate(params) if p == STAND_IN)
    if not positions or not sql:
        raise ValueError(f"{key}: the argument is not a parameter of the SQL")
    return _Compiled(qs.model, qs._iterable_class, type(qs), compiler, sql, tuple(params), positions)


def precompiled_list(key: str, build: Callable[[int], QuerySet], arg: int, *, using: str = "default") -> list:
    """``list(build(arg))``, its SQL compiled once per process under ``key`` (one key, one ``build``); the
    argument may stand at several places of the SQL (each gets it)."""
    c = _CACHE.get((key, using))
    if c is None:
        c = _CACHE[(key, using)] = _compile(key, build, using)
    params = list(c.params)
    for i in c.positions:
        params[i] = int(arg)
    compiler = copy.copy(c.compiler)
    compiler.connection = connections[using]  # this thread's connection, not the one that compiled it
    sql, bound = c.sql, tuple(params)
    compiler.as_sql = lambda *a, **k: (sql, bound)
    qs = c.queryset_class(model=c.model, query=_Ready(compiler), using=using)
    qs._iterable_class = c.iterable
    return list(qs)


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
