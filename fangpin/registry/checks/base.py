"""The check registry and runner."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module

from django.db.models import QuerySet


@dataclass(frozen=True)
class Finding:
    code: str
    household_id: int
    message: str
    person_id: int | None = None
    field: str = ""


@dataclass(frozen=True)
class CheckContext:
    """What a rule looks at: the (already region-scoped) households, their current members, a date."""

    households: QuerySet
    persons: QuerySet
    on: dt.date


@dataclass(frozen=True)
class Check:
    code: str
    family: str
    title: str
    severity: str
    func: Callable[[CheckContext], Iterable[Finding]]


CHECKS: dict[str, Check] = {}

# The registry's own rule modules, imported on first use. Downstream parts register their rules with
# ``register`` from their AppConfig.ready (monitoring's M-* rules), never listed here.
RULE_MODULES: list[str] = [
    "fangpin.registry.checks.persons",
    "fangpin.registry.checks.households",
    "fangpin.registry.checks.identity",
    "fangpin.registry.checks.income",
]


def register(code: str, *, family: str, title: str, severity: str = "error"):
    def deco(func: Callable[[CheckContext], Iterable[Finding]]):
        if code in CHECKS:
            raise ValueError(f"duplicate check code {code}")
        CHECKS[code] = Check(code, family, title, severity, func)
        return func

    return deco


def _load() -> None:
    for mod in RULE_MODULES:
        import_module(mod)


_RUNS = itertools.count(1)
_RUN = threading.local()


def current_run() -> int:
    """The number of the ``run_checks`` call in progress on this thread: a rule family that computes all
    its codes at once (monitoring's warnings), or a fact every rule asks (the context's counties), remembers
    it for one run only; 0 outside a run (nothing is remembered then)."""
    return getattr(_RUN, "n", 0)


def run_checks(ctx: CheckContext, *, codes: Iterable[str] | None = None) -> list[Finding]:
    _load()
    _RUN.n = next(_RUNS)
    try:
        wanted = set(codes) if codes else set(CHECKS)
        out: list[Finding] = []
        for code in sorted(wanted):
            out.extend(CHECKS[code].func(ctx))
        return out
    finally:
        _RUN.n = 0  # no run in progress: a rule called on its own remembers nothing
