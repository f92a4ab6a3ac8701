"""农户自主申报 on a phone: the short form a household fills (on a cadre's phone, or a cadre on its behalf),
the photo of the signed 承诺授权书, the receipt with its acknowledgement number (受理编号), and the lookup by
that number (also without a login: number + last four characters of a member's ID number).

Everything is the trust part's ``self_application_receive`` / ``self_application_lookup``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core.errors import DomainError
from fangpin.monitoring.selectors import visit_targets
from fangpin.policy.params import param_value
from fangpin.trust.consent_scopes import SCOPE_LABELS
from fangpin.trust.services.self_application import self_application_lookup, self_application_receive

from ._common import today


@login_required
def self_apply(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.LEAD_SUBMIT)
    on = today()
    region = request.user.region_id or ""
    risk_types = list(param_value("catalogue.risk_types", region_code=region, year=on.year))
    scopes = list(param_value("consent.scopes", region_code=region, year=on.year))
    errors: dict[str, str] = {}
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        signed = request.POST.get("signed") == "yes"
        try:
            household_id = int(request.POST.get("household_id") or 0)
        except ValueError:
            household_id = 0
        if not household_id:
            errors["household_id"] = "请选择申报户"
        if not request.POST.get("applicant", "").strip():
            errors["applicant"] = "请填写申请人姓名"
        try:
            signed_on = dt.date.fromisoformat(request.POST.get("signed_on") or on.isoformat())
        except ValueError:
            signed_on, errors["signed_on"] = on, "签署日期格式不对"
        # 受理日期: the business date (a paper application entered afterwards), never in the future
        received_on = on
        try:
            received_on = dt.date.fromisoformat(request.POST.get("on") or on.isoformat())
        except ValueError:
            errors["on"] = "受理日期格式应为 年-月-日"
        else:
            if received_on > on:
                errors["on"] = "受理日期不能晚于今天"
        if not errors:
            photo = request.FILES.get("photo")
            try:
                receipt = self_application_receive(
                    actor=request.user,
                    household_id=household_id,
                    form={
                        "applicant": request.POST.get("applicant", "").strip()[:50],
                        "applicant_phone": request.POST.get("applicant_phone", "").strip()[:20],
                        "on_behalf": request.POST.get("on_behalf") == "yes",
                        "difficulties": request.POST.get("difficulties", "").strip()[:1000],
                        "risk_types": request.POST.getlist("risk_types"),
                        "note": request.POST.get("note", "").strip()[:1000],
                    },
                    consent={
                        "signed": signed,
                        "signed_on": signed_on,
                        "signed_by_name": request.POST.get("signed_by_name", "").strip(),
                        "scope": request.POST.getlist("scope"),
                        "paper_holder": request.POST.get("paper_holder", "").strip(),
                    },
                    photo=photo.read() if photo else None,
                    on=received_on,
                )
            except DomainError as e:
                shown = {"household_id", "applicant", "photo", "risk_types", "signed_on", "on"}
                errors[e.field if e.field in shown else "general"] = e.message
            else:
                return redirect("web:self_apply_done", ack_no=receipt.ack_no)
    ctx = {
        "targets": visit_targets(actor=request.user, on=on),
        "risk_types": risk_types,
        "scopes": [(s, SCOPE_LABELS.get(s, s)) for s in scopes],
        "errors": errors,
        "v": values,
        "today": on,
    }
    return render(request, "web/selfapply/form.html", ctx, status=400 if errors else 200)


@login_required
def self_apply_done(request: HttpRequest, ack_no: str) -> HttpResponse:
    status = self_application_lookup(ack_no=ack_no, actor=request.user)
    return render(request, "web/selfapply/done.html", {"s": status})


def self_apply_lookup(request: HttpRequest) -> HttpResponse:
    """查询申报进度: open to a household without an account (number + ID tail), or to staff by number."""
    status = error = None
    ack_no = request.GET.get("ack_no", "").strip()
    if ack_no:
        actor = request.user if request.user.is_authenticated else None
        try:
            status = self_application_lookup(
                ack_no=ack_no, actor=actor, id_tail=request.GET.get("id_tail", "")
            )
        except DomainError:
            error = "未查到该受理编号（请核对编号和身份证号后四位）"
    return render(
        request,
        "web/selfapply/lookup.html",
        {"s": status, "error": error, "ack_no": ack_no},
        status=404 if error else 200,
    )
