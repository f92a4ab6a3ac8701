"""Reads over the division tree."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Level, Region, code_prefix


def region_get(code: str) -> Region:
    return Region.objects.get(code=code.ljust(12, "0") if len(code) < 12 else code)


def region_descendants(code: str, *, level: int | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(code__startswith=code_prefix(code))
    return qs.filter(level=level) if level else qs


def villages_of(code: str) -> QuerySet[Region]:
    return region_descendants(code, level=Level.VILLAGE)


def region_path_names(code: str) -> list[str]:
    """['河南省', '安阳市', '龙安区', '马家乡', '贾家村村民委员会'] for a village code."""
    names = []
    region: Region | None = Region.objects.filter(code=code).first()
    while region is not None:
        names.append(region.name)
        region = region.parent
    return list(reversed(names))
