"""工作清单 (working lists): a saved household search (filters, sort, columns), private or shared with the
township; opening one re-runs the search in the opener's own scope (a shared list never widens it).
The ``worklists`` services and the household search selector of the browser's 户档案 list."""

import datetime as dt

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from fangpin.core import clock
from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
from fangpin.worklists import services as worklists

from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from ..schemas import HouseholdRow, PlainText
from .households import SearchFilter, household_page

router = Router(tags=["工作清单"])


class WorklistOut(Schema):
    id: int
    name: str
    owner: str
    mine: bool
    shared_township: str
    filters: dict[str, str]
    columns: list[str]
    created_at: dt.datetime


class WorklistIn(Schema):
    name: PlainText = Field(..., min_length=1, max_length=50)
    filters: SearchFilter = Field(default_factory=SearchFilter)
    columns: list[PlainText] = Field(default_factory=list, max_length=20, description="显示列（见 COLUMNS）")
    share: bool = Field(False, description="共享给本乡镇（仅乡镇、村级用户）")


def worklist_out(wl, actor) -> dict:
    return {
        "id": wl.pk,
        "name": wl.name,
        "owner": wl.owner.username,
        "mine": wl.owner_id == actor.pk,
        "shared_township": wl.shared_township,
        "filters": {str(k): str(v) for k, v in (wl.params or {}).items()},
        "columns": [str(c) for c in wl.columns or []],
        "created_at": wl.created_at,
    }


@router.get("/worklists", response={200: list[WorklistOut], **ERRORS}, summary="本人的和本乡镇共享的工作清单")
@paginate(Pages)
def worklist_list(request):
    user = request.auth
    return Mapped.each(
        worklists.worklist_list(actor=user).order_by("name", "id"), lambda w: worklist_out(w, user)
    )


@router.post(
    "/worklists",
    response={201: WorklistOut, **ERRORS},
    summary="保存工作清单（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def worklist_create(request, payload: WorklistIn):
    def create():
        f = payload.filters.as_filter()
        wl = worklists.worklist_save(
            actor=request.auth,
            name=payload.name,
            params=f.as_params(),
            columns=payload.columns,
            share=payload.share,
        )
        return 201, to_json(worklist_out(wl, request.auth))

    return once(request, "worklists.create", payload.dict(), create)


@router.get("/worklists/{worklist_id}", response={200: WorklistOut, **ERRORS}, summary="工作清单")
def worklist_detail(request, worklist_id: int):
    return worklist_out(worklists.worklist_get(actor=request.auth, worklist_id=worklist_id), request.auth)


@router.get(
    "/worklists/{worklist_id}/households",
    response={200: list[HouseholdRow], **ERRORS},
    summary="打开工作清单：按其条件在本人范围内检索的户",
)
@paginate(Pages)
def worklist_households(request, worklist_id: int):
    wl = worklists.worklist_get(actor=request.auth, worklist_id=worklist_id)
    f = HouseholdFilter.from_params(wl.params or {})
    qs = household_search_qs(actor=request.auth, f=f, on=clock.today())
    return household_page(request.auth, qs, f)


@router.delete("/worklists/{worklist_id}", response={204: None, **ERRORS}, summary="删除本人的工作清单")
def worklist_remove(request, worklist_id: int):
    worklists.worklist_delete(actor=request.auth, worklist_id=worklist_id)
    return Status(204, None)
