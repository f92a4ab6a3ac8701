"""Reads over the division tree."""

from __future__ import annotations

import time

from django.db.models import QuerySet

from .models import Level, Region, code_prefix


def region_get(code: str) -> Region:
    return Region.objects.get(code=code.ljust(12, "0") if len(code) < 12 else code)


def region_descendants(code: str, *, level: int | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(code__startswith=code_prefix(code))
    return qs.filter(level=level) if level else qs


def villages_of(code: str) -> QuerySet[Region]:
    return region_descendants(code, level=Level.VILLAGE)


# region_path_names per process: the division tree changes about once a year (an import of the 区划 table), and
# every household file names its village's path (five reads up the tree). Kept PATH_TTL seconds; a Region saved
# or deleted in this process clears it (regions.apps connects the signals).
PATH_TTL = 600.0
_PATHS: dict[str, tuple[float, list[str]]] = {}


def region_paths_forget(**_kwargs: object) -> None:
    _PATHS.clear()


def region_path_names(code: str) -> list[str]:
    """['河南省', '安阳市', '龙安区', '马家乡', '贾家村村民委员会'] for a village code."""
    hit = _PATHS.get(code)
    now = time.monotonic()
    if hit is not None and now - hit[0] < PATH_TTL:
        return list(hit[1])
    names = _region_path_read(code)
    _PATHS[code] = (now, names)
    return list(names)


def _region_path_read(code: str) -> list[str]:
    names = []
    region: Region | None = Region.objects.filter(code=code).first()
    while region is not None:
        names.append(region.name)
        region = region.parent
    return list(reversed(names))
