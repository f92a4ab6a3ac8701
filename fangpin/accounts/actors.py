"""Who acts: a ``User``, or a named ``SystemActor`` for batch jobs and the server operator.

There is no third kind: services never accept ``actor=None`` to mean "skip the checks". A job passes
``system_actor("recert_tasks")``, which goes through the same scope and capability checks as a user — it
has the whole installation in scope and every capability except reading the audit log and exporting
unmasked personal data — and is named in every audit event it causes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

SYSTEM_ROLE = "system"
_NOT_FOR_SYSTEM = frozenset({"audit.view", "registry.export_unmasked"})


@dataclass(frozen=True)
class SystemActor:
    name: str

    pk = None
    id = None
    region_id = None
    role = SYSTEM_ROLE
    is_active = True
    is_authenticated = False
    is_superuser = False
    department = ""

    @property
    def username(self) -> str:
        return f"system:{self.name}"

    @property
    def scope_prefix(self) -> str:
        return ""  # every region code starts with ""

    def can(self, cap: str) -> bool:
        return str(cap) not in _NOT_FOR_SYSTEM

    def __str__(self) -> str:
        return self.username


def system_actor(name: str) -> SystemActor:
    """The actor of a job or command run by the server itself, e.g. ``system_actor("recert_tasks")``."""
    if not name:
        raise ValueError("a system actor needs a name")
    return SystemActor(name)


def is_system(actor: Any) -> bool:
    """True for a system actor; refuses ``None`` outright (no silent bypass)."""
    if actor is None:
        raise TypeError("actor is required: a user, or accounts.actors.system_actor(name) for a job")
    return isinstance(actor, SystemActor)


Actor = Union["User", SystemActor]  # noqa: F821  (accounts.models.User)
