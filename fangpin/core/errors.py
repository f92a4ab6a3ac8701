"""Domain errors: a stable code, a Chinese message for the user, and where the problem is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """Raised by services when a request is refused. Web/API/CLI turn it into a message in Chinese."""

    def __init__(
        self, code: str, message: str, *, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}


class NotFound(DomainError):
    """Missing or outside the actor's region: the same answer for both, so existence is not revealed."""

    def __init__(self, what: str = "对象") -> None:
        super().__init__("not_found", f"{what}不存在或无权访问")


class PermissionDenied(DomainError):
    def __init__(self, message: str = "无权执行此操作") -> None:
        super().__init__("permission_denied", message)


@dataclass
class RowError:
    """One problem of one input row: row number as the user sees it (1-based, header included)."""

    row: int
    column: str
    message: str
    value: str = ""
    code: str = ""


@dataclass
class ValidationReport:
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
