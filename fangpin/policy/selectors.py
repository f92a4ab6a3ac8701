"""Reads of the parameter store for the administration screens: every key with its current value, and one
key's full version history (inactive versions included) next to its audit trail."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Parameter


def parameter_keys() -> list[dict[str, Any]]:
    """One row per key: how many (region, year) settings and versions it has, the latest basis."""
    out: dict[str, dict[str, Any]] = {}
    for p in Parameter.objects.order_by("key", "region_code", "year", "version"):
        row = out.setdefault(
            p.key, {"key": p.key, "settings": set(), "versions": 0, "basis": "", "doc_no": ""}
        )
        row["settings"].add((p.region_code, p.year))
        row["versions"] += 1
        if p.is_active:
            row["basis"], row["doc_no"] = p.basis, p.doc_no
    return [{**r, "settings": len(r["settings"])} for r in out.values()]


def parameter_version_get(param_id: int) -> Parameter | None:
    """One parameter version by id (any region, year or state), or None."""
    return Parameter.objects.filter(pk=param_id).first()


def parameter_versions(key: str) -> QuerySet[Parameter]:
    """Every version of ``key`` (all regions and years), newest first."""
    return Parameter.objects.filter(key=key).select_related("created_by").order_by("-created_at", "-id")


def parameter_audit_trail(key: str) -> list[Any]:
    """The audit events of ``policy.parameter_set`` for ``key`` (who, when, old → new, version)."""
    from fangpin.audit.models import AuditEvent

    ids = [str(i) for i in Parameter.objects.filter(key=key).values_list("pk", flat=True)]
    return list(
        AuditEvent.objects.filter(event_type="policy.parameter_set", object_id__in=ids)
        .select_related("actor")
        .order_by("-seq")[:200]
    )
