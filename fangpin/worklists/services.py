"""Saving, sharing, listing and deleting working lists (all audited)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError, NotFound

from .models import SavedList

COLUMNS = {
    "household_no": "户编号",
    "head": "户主",
    "village": "行政村",
    "type": "户类型",
    "members": "人口",
    "monitoring": "监测状态",
    "phone": "联系电话",
}
DEFAULT_COLUMNS = list(COLUMNS)
E_NAME = "worklist_name_required"
E_DUPLICATE = "worklist_name_taken"
E_SHARE = "worklist_share_no_township"


def township_of(actor) -> str:
    """The township code of the actor's region ('' for a county-level or region-less user)."""
    code = actor.region_id or ""
    if len(code) != 12 or code[6:9] == "000":
        return ""
    return code[:9] + "000"


def clean_columns(columns: list[str] | None) -> list[str]:
    cols = [c for c in (columns or []) if c in COLUMNS]
    return cols or DEFAULT_COLUMNS


@transaction.atomic
def worklist_save(
    *, actor, name: str, params: dict[str, str], columns: list[str] | None, share: bool = False
) -> SavedList:
    require(actor, Cap.REGISTRY_VIEW)
    name = (name or "").strip()
    if not name:
        raise DomainError(E_NAME, "请给工作清单起个名字", field="name")
    township = ""
    if share:
        township = township_of(actor)
        if not township:
            raise DomainError(E_SHARE, "只有乡镇和村级用户可以把清单共享给本乡镇", field="share")
    if SavedList.objects.filter(owner=actor, name=name).exists():
        raise DomainError(E_DUPLICATE, f"已有名为“{name}”的清单", field="name")
    params = {k: str(v) for k, v in params.items() if k != "page"}
    wl = SavedList.objects.create(
        owner=actor, name=name[:50], params=params, columns=clean_columns(columns), shared_township=township
    )
    audit_record(
        actor=actor,
        event_type="worklists.save",
        obj=wl,
        region_code=actor.region_id or "",
        data={"name": wl.name, "params": params, "columns": wl.columns, "shared_township": township},
    )
    return wl


def worklist_list(*, actor) -> QuerySet[SavedList]:
    """The actor's own lists and those shared with the township the actor works in."""
    q = Q(owner=actor)
    township = township_of(actor)
    if township:
        q |= Q(shared_township=township)
    return SavedList.objects.filter(q).select_related("owner")


def worklist_get(*, actor, worklist_id: int) -> SavedList:
    wl = worklist_list(actor=actor).filter(pk=worklist_id).first()
    if wl is None:
        raise NotFound("工作清单")
    return wl


@transaction.atomic
def worklist_delete(*, actor, worklist_id: int) -> None:
    wl = SavedList.objects.filter(pk=worklist_id, owner=actor).first()
    if wl is None:
        raise NotFound("工作清单")
    audit_record(actor=actor, event_type="worklists.delete", obj=wl, region_code=actor.region_id or "")
    wl.delete()
