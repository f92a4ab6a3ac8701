"""Helpers for list routes: serialise only the page that pagination slices, and JSON-safe bodies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 50_000_000


class Mapped:
    """A queryset seen by django-ninja's pagination: ``count()`` and slicing; the slice is serialised by
    ``page_fn`` (all rows of the page at once, e.g. to fetch related rows in one query)."""

    def __init__(
        self,
        qs,
        page_fn: Callable[[list], Iterable[dict]],
        *,
        count_qs=None,
        count_fn: Callable[[], tuple[int, bool]] | None = None,
        slice_fn: Callable[[int, int], list] | None = None,
    ) -> None:
        self.qs, self.page_fn = qs, page_fn
        self.count_qs = count_qs if count_qs is not None else qs  # e.g. without the rows' annotations
        self.count_fn = count_fn  # a bounded count: (count, capped)
        self.slice_fn = slice_fn  # (offset, limit) → rows, e.g. ids first then the annotated rows
        self.capped = False

    @classmethod
    def each(cls, qs, fn: Callable[[Any], dict]) -> Mapped:
        return cls(qs, lambda rows: [fn(o) for o in rows])

    def count(self) -> int:
        if self.count_fn is not None:
            n, self.capped = self.count_fn()
            return n
        return self.count_qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, sl: slice) -> list[dict]:
        if self.slice_fn is not None:
            start = sl.start or 0
            return list(self.page_fn(self.slice_fn(start, (sl.stop or start) - start)))
        return list(self.page_fn(list(self.qs[sl])))


def to_json(d: dict) -> dict:
    """What an idempotency record stores and replays: exactly the JSON the first answer carried."""
    return json.loads(json.dumps(d, cls=DjangoJSONEncoder))


class Pages(LimitOffsetPagination):
    """limit/offset with bounds in the schema itself (so out-of-range values are a 422, never a crash)."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT, description="每页条数（1–500）")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数")

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="条数；count_capped 为真时为下限（实际超过该数）")
        count_capped: bool = Field(False, description="条数超过计数上限，count 只是下限")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)

    def paginate_queryset(self, queryset: Any, pagination: Any, request: Any, **params: Any) -> Any:
        out = super().paginate_queryset(queryset, pagination, request, **params)
        if isinstance(queryset, Mapped):
            out["items"] = list(out["items"])  # the page is read once, after the count
            out["count_capped"] = queryset.capped
        return out
