"""农户自主申报 on a household's behalf, with the signed 承诺授权书 recorded as consent."""

import datetime as dt

from ninja import Router, Schema

from fangpin.core import clock
from fangpin.trust.services.self_application import self_application_lookup, self_application_submit

from .. import serialize
from ..errors import ERRORS
from ..idempotency import once
from ..paging import to_json
from ..schemas import LeadOut, PlainText, SelfApplicationIn

router = Router(tags=["农户自主申报"])


@router.post(
    "/self-applications", response={201: LeadOut, **ERRORS}, summary="农户自主申报（支持 Idempotency-Key）"
)
def self_application(request, payload: SelfApplicationIn):
    def create():
        consent = payload.consent.dict()
        if not consent["signed"]:
            consent = {"signed": False}
        lead = self_application_submit(
            actor=request.auth,
            household_id=payload.household_id,
            form={
                "difficulties": payload.difficulties,
                "risk_types": payload.risk_types,
                "note": payload.note,
            },
            consent=consent,
            on=payload.on or clock.today(),  # the business date, or the day it is received
        )
        return 201, to_json(serialize.lead(lead, with_sources=True))

    return once(request, "self_applications.create", payload.dict(), create)


class SelfApplicationStatusOut(Schema):
    ack_no: str
    submitted_on: dt.date
    village: str
    status: str
    outcome: str
    closed_on: dt.date | None


@router.get(
    "/self-applications/{ack_no}",
    response={200: SelfApplicationStatusOut, **ERRORS},
    summary="按受理编号查询申报进度（本辖区；查询留痕）",
)
def self_application_status(request, ack_no: PlainText):
    s = self_application_lookup(ack_no=ack_no[:30], actor=request.auth)
    return s.__dict__
