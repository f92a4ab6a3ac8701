"""农户自主申报: the phone form's one call (``self_application_receive``): the application, the signed 承诺授权书
recorded as consent with its photo, and the 受理编号 the household quotes."""

import datetime as dt
import hashlib

from ninja import Field, File, Form, Router, Schema, UploadedFile

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.monitoring.models import Lead
from fangpin.trust.services.self_application import self_application_lookup, self_application_receive

from .. import serialize
from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import to_json
from ..schemas import BusinessDate, LeadOut, MultilineText, PlainText

router = Router(tags=["农户自主申报"])


class SelfApplicationForm(Schema):
    household_id: int = Field(..., ge=1)
    difficulties: MultilineText = Field(..., min_length=1, max_length=1000)
    risk_types: list[PlainText] = Field(default_factory=list, max_length=20)
    note: MultilineText = Field("", max_length=1000)
    applicant: PlainText = Field("", max_length=50, description="申请人（户主或家庭成员）")
    applicant_phone: PlainText = Field("", max_length=20, description="申请人联系电话")
    on_behalf: bool = Field(False, description="村干部代为填报")
    consent_signed: bool = Field(False, description="已签署《承诺授权书》（须同时上传照片 photo）")
    signed_on: BusinessDate | None = Field(None, description="签署日期（缺省为受理日期）")
    signed_by_name: PlainText = Field("", max_length=50)
    scope: list[PlainText] = Field(default_factory=list, max_length=20, description="授权范围")
    paper_holder: PlainText = Field("", max_length=100, description="纸质件保管处")
    on: BusinessDate | None = Field(None, description="受理日期（缺省为今天，不能晚于今天）")


class SelfApplicationReceiptOut(Schema):
    ack_no: str
    lead_id: int
    consent_id: int | None
    lead: LeadOut


@router.post(
    "/self-applications",
    response={201: SelfApplicationReceiptOut, **ERRORS},
    summary="农户自主申报（multipart：申报内容与已签字《承诺授权书》照片 photo；返回受理编号；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def self_application(
    request,
    form: Form[SelfApplicationForm],
    photo: UploadedFile | None = File(None, description="已签字《承诺授权书》照片"),  # noqa: B008
):
    """The browser's 农户自主申报 form as one call: a signed consent needs its photo (``photo``: jpeg/png,
    kept in the private file store), a photo without a signed consent is refused, and the answer carries
    the 受理编号 (``ack_no``) the household quotes at ``GET /self-applications/{ack_no}``."""
    today = clock.today()
    on = form.on or today
    if on > today:
        raise DomainError("invalid", "受理日期不能晚于今天", field="on")
    data = photo.read() if photo is not None else None
    digest = {**form.dict(), "photo": hashlib.sha256(data).hexdigest() if data else None}

    def create():
        receipt = self_application_receive(
            actor=request.auth,
            household_id=form.household_id,
            form={
                "applicant": form.applicant.strip(),
                "applicant_phone": form.applicant_phone.strip(),
                "on_behalf": form.on_behalf,
                "difficulties": form.difficulties.strip(),
                "risk_types": list(form.risk_types),
                "note": form.note.strip(),
            },
            consent={
                "signed": form.consent_signed,
                "signed_on": form.signed_on or on,
                "signed_by_name": form.signed_by_name.strip(),
                "scope": list(form.scope),
                "paper_holder": form.paper_holder.strip(),
            },
            photo=data,
            on=on,
        )
        lead = Lead.objects.select_related("household").get(pk=receipt.lead_id)
        return 201, to_json(
            {
                "ack_no": receipt.ack_no,
                "lead_id": receipt.lead_id,
                "consent_id": receipt.consent_id,
                "lead": serialize.lead(lead, with_sources=True),
            }
        )

    return once(request, "self_applications.create", digest, create)


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
