"""Household-level rules: 户主/配偶 of the same gender, household phone format, missing household
fields (§4.2 1_11_002), 低保 members vs 低保金 in last year's income."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum

from fangpin.core.masking import mask_text

from ..models import IncomeRecord, Person
from . import codes as C
from .base import CheckContext, Finding, register
from .persons import _rows, bad_phone
from .support import who

FAMILY = "家庭信息"


@register(C.SPOUSE_GENDER, family=FAMILY, title="户主与配偶性别相同")
def spouse_gender(ctx: CheckContext) -> Iterator[Finding]:
    head = Person.objects.filter(household=OuterRef("household"), relation="户主", is_member=True)
    qs = ctx.persons.filter(relation="配偶").annotate(
        head_gender=Subquery(head.values("gender")[:1]), head_name=Subquery(head.values("name")[:1])
    )
    for p in _rows(qs.filter(gender=F("head_gender")), "gender", "head_name"):
        g = "男" if p["gender"] == "M" else "女"
        yield Finding(
            C.SPOUSE_GENDER,
            p["household_id"],
            f"配偶{who(p)}与户主{p['head_name']}性别同为{g}",
            p["id"],
            "gender",
        )


@register(C.PHONE_HH, family=FAMILY, title="户联系电话格式错误")
def household_phone(ctx: CheckContext) -> Iterator[Finding]:
    rows = ctx.households.exclude(phone="").values("id", "household_no", "phone").order_by("id")
    for h in rows.iterator(chunk_size=2000):
        if not bad_phone(h["phone"]):
            continue
        yield Finding(
            C.PHONE_HH,
            h["id"],
            f"户{h['household_no']}户联系电话“{mask_text(h['phone'])}”格式错误（应为11位手机号1[3-9]开头，或带区号的固定电话）",
            None,
            "phone",
        )


_HH_REQUIRED = {
    "phone": "户联系电话",
    "group_name": "村民小组",
    "household_type": "户类型",
    "address": "家庭住址",
}


@register(C.MISSING_HH, family=FAMILY, title="户必填项缺失")
def missing_household_fields(ctx: CheckContext) -> Iterator[Finding]:
    missing = Q()
    for f in _HH_REQUIRED:
        missing |= Q(**{f: ""})
    for h in ctx.households.filter(missing).values("id", "household_no", *_HH_REQUIRED).order_by("id"):
        fields = [label for f, label in _HH_REQUIRED.items() if not h[f]]
        yield Finding(
            C.MISSING_HH, h["id"], f"户{h['household_no']}缺少必填项：{'、'.join(fields)}", None, ""
        )


def _year_income(field: str, year: int) -> Subquery:
    return Subquery(
        IncomeRecord.objects.filter(
            household=OuterRef("pk"),
            period_start__gte=dt.date(year, 1, 1),
            period_end__lte=dt.date(year, 12, 31),
        )
        .order_by()
        .values("household")
        .annotate(s=Sum(field))
        .values("s")[:1]
    )


@register(C.DIBAO_INCOME, family=FAMILY, title="低保成员与低保金收入不一致")
def dibao_vs_income(ctx: CheckContext) -> Iterator[Finding]:
    year = ctx.on.year - 1
    dibao_member = Person.objects.filter(household=OuterRef("pk"), is_member=True).exclude(dibao="未享受")
    qs = (
        ctx.households.annotate(
            has_dibao=Exists(dibao_member), dibao_money=_year_income("transfer_dibao", year)
        )
        .filter(dibao_money__isnull=False)
        .filter(Q(has_dibao=True, dibao_money=0) | Q(has_dibao=False, dibao_money__gt=0))
    )
    for h in qs.values("id", "household_no", "has_dibao", "dibao_money").order_by("id"):
        if h["has_dibao"]:
            msg = f"户{h['household_no']}有享受低保的成员，但{year}年收入中低保金为0"
        else:
            msg = f"户{h['household_no']}无享受低保的成员，但{year}年收入中有低保金{h['dibao_money']}元"
        yield Finding(C.DIBAO_INCOME, h["id"], msg, None, "transfer_dibao")
