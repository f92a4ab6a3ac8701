"""Income rules that need the monitoring objects:

- P-EXITED-UNDER-LINE (贵州问题清单 1_02_006): a 脱贫户 whose 人均纯收入 of the last complete year is under
  that year's monitoring line but which is not a monitoring object on the check date (nor had its risk
  eliminated after that year, on newer income). Set-based: the
  year's components are summed in a subquery, members counted in another, compared in SQL.
- P-INCOME-STATED: an income record whose 人均纯收入 as the source file stated it (``stated_per_capita``)
  disagrees by more than 1 元 with the one computed from its components and the household's members —
  the national figure and fangpin's never silently differ.
- P-INCOME-IMPLAUSIBLE (1111_18): a monitoring object identified in a year for which
  ``income.implausible_per_capita`` exists (2023+) whose 人均纯收入 at identification — computed by
  the one income function, ``household_income_assess`` — exceeds that value. Few rows, so per household.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.policy.params import param_get
from fangpin.policy.rules.income import IncomeFacts, per_capita_net_income

from .. import hooks
from ..models import Household, IncomeRecord, MemberChange, Person
from ..models.income import TRANSFER_FIELDS
from . import codes as C
from .base import CheckContext, Finding, register
from .support import param, per_county

FAMILY = "收入"


def monitored_on(on: dt.date, *, reviewed_after: dt.date | None = None):
    """Household ids (a subquery) that are monitoring objects on ``on`` — monitoring's one definition
    (``registry.hooks``, incl. 渐退期) — and, with ``reviewed_after``, those whose risk was eliminated
    after that date: the elimination reviewed newer income than that year's, so the year's figure no
    longer speaks."""
    current = hooks.monitoring().objects_on(on)
    if reviewed_after is None:
        return current.values("household_id")
    objects = current.model.objects.filter(identified_on__lte=on, eliminated_on__gt=reviewed_after).exclude(
        status="revoked"
    )
    return (current | objects).values("household_id")


def year_figures(households, year: int, *, include_payout: bool) -> dict[int, tuple[int, Decimal]]:
    """(records, net income by the §5.1 formula) of ``year`` by household, for the households that have a
    record in it: one grouped query (not a subquery per component, whose compilation cost more than the
    rule's SQL for one household)."""
    parts = ["wage", "production_business", "property_income", *TRANSFER_FIELDS]
    if include_payout:
        parts.append("insurance_payout")
    rows = (
        IncomeRecord.objects.filter(
            household__in=households.order_by().values("pk"),
            period_start__gte=dt.date(year, 1, 1),
            period_end__lte=dt.date(year, 12, 31),
        )
        .order_by()
        .values("household_id")
        .annotate(n=Count("id"), **{f"y_{p}": Sum(p) for p in [*parts, "production_expense"]})
    )
    out: dict[int, tuple[int, Decimal]] = {}
    for r in rows:
        total = sum((r[f"y_{p}"] or Decimal(0) for p in parts[1:]), r[f"y_{parts[0]}"] or Decimal(0))
        out[r["household_id"]] = (r["n"], total - (r["y_production_expense"] or Decimal(0)))
    return out


@register(C.EXITED_UNDER_LINE, family=FAMILY, title="脱贫户收入低于监测范围但未纳入监测")
def exited_under_line(ctx: CheckContext) -> Iterator[Finding]:
    """Set-based over households with one record in the year and no member change since its end (the
    year's components summed in one grouped query, members counted in another, compared here); the
    others (several records in the year — a 12-month record beside the imported year, monthly entries — or
    a birth, death or move after the year) are judged by the one income rule over the members of 31
    December, so overlapping records never add up and a later change never rewrites the year."""
    from ..selectors import members_as_of
    from ..services.assessment import household_income_assess

    year = ctx.on.year - 1
    year_end = dt.date(year, 12, 31)
    monitored = monitored_on(ctx.on, reviewed_after=year_end)
    for county, _, households in per_county(ctx):
        line = Decimal(str(param_value_year("income.monitoring_line", county, year)))
        include = bool(param_value_year("income.include_insurance_payout", county, year))
        exited = households.filter(household_type="脱贫户").exclude(id__in=monitored)
        figures = year_figures(exited, year, include_payout=include)
        if not figures:
            continue
        ids = sorted(figures)
        members = dict(
            Person.objects.filter(household_id__in=ids, is_member=True)
            .order_by()
            .values("household_id")
            .annotate(n=Count("id"))
            .values_list("household_id", "n")
        )
        changed = set(
            MemberChange.objects.filter(household_id__in=ids, date__gt=year_end).values_list(
                "household_id", flat=True
            )
        )
        numbers = dict(Household.objects.filter(pk__in=ids).values_list("id", "household_no"))
        rows = []
        again = []  # judged by the income rule
        for hid in ids:
            n, net = figures[hid]
            if n > 1 or hid in changed:
                again.append(hid)
            elif members.get(hid, 0) > 0 and net < members[hid] * line:
                rows.append((hid, numbers[hid], net, members[hid]))
        for hh in Household.objects.filter(pk__in=again) if again else ():
            n = len(members_as_of(hh.id, year_end))
            a = household_income_assess(hh, month=dt.date(year + 1, 1, 1), members=n)  # window = the year
            if not a.missing and a.per_capita < line:
                rows.append((hh.id, hh.household_no, a.result.net_income, n))
        for hid, no, net, n_members in sorted(rows):
            per = (Decimal(net) / n_members).quantize(Decimal("0.01"))
            yield Finding(
                C.EXITED_UNDER_LINE,
                hid,
                f"脱贫户{no}：{year}年人均纯收入{per}元（{n_members}人），"
                f"低于{year}年监测范围{line}元，但未纳入监测对象",
                None,
                "income",
            )


@register(C.INCOME_MISSING, family=FAMILY, title="收入数据不完整", severity="warning")
def income_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A 脱贫户 or monitoring object with no income record covering last year cannot be judged against
    the line: said as missing (收入数据不完整), never as above it."""
    year = ctx.on.year - 1
    monitored = monitored_on(ctx.on)
    covering = IncomeRecord.objects.filter(
        household=OuterRef("pk"), period_start__lte=dt.date(year, 12, 31), period_end__gte=dt.date(year, 1, 1)
    )
    wanted = Q(household_type="脱贫户") | Q(id__in=monitored)
    qs = ctx.households.filter(wanted).exclude(Exists(covering))
    for h in qs.values("id", "household_no").order_by("id"):
        yield Finding(
            C.INCOME_MISSING,
            h["id"],
            f"{h['household_no']}：{year}年无收入记录，收入数据不完整，无法判断是否低于监测收入线",
            None,
            "income",
        )


def param_value_year(key: str, county: str, year: int):
    return param(key, county, dt.date(year, 12, 31))


@register(C.INCOME_IMPLAUSIBLE, family=FAMILY, title="新识别监测对象人均纯收入过高")
def implausible_income(ctx: CheckContext) -> Iterator[Finding]:
    mo = hooks.monitoring().objects_on(ctx.on).model
    from ..services.assessment import household_income_assess

    objects = (
        mo.objects.filter(household__in=ctx.households, identified_on__lte=ctx.on)
        .exclude(status="revoked")
        .select_related("household")
        .order_by("household_id", "identified_on")
    )
    for obj in objects:
        hh: Household = obj.household
        try:
            limit = param_get(
                "income.implausible_per_capita", region_code=hh.village_id, year=obj.identified_on.year
            )
        except DomainError:
            continue  # the rule applies from the year the parameter exists (2023)
        a = household_income_assess(hh, month=obj.identified_on)
        if a.result.months_covered and a.per_capita > Decimal(str(limit.value)):
            yield Finding(
                C.INCOME_IMPLAUSIBLE,
                hh.id,
                f"户{hh.household_no}于{obj.identified_on:%Y%m}识别为{obj.category}，"
                f"识别时人均纯收入{a.per_capita}元，超过{limit.value}元，请核实收入或识别依据",
                None,
                "income",
            )


STATED_TOLERANCE = Decimal("1.00")  # 元: rounding of the source system, not a disagreement


@register(C.INCOME_STATED, family=FAMILY, title="来源文件的人均纯收入与收入分项不一致")
def stated_per_capita(ctx: CheckContext) -> Iterator[Finding]:
    records = (
        IncomeRecord.objects.filter(household__in=ctx.households, stated_per_capita__isnull=False)
        .select_related("household")
        .order_by("household_id", "period_start")
    )
    members = dict(
        Person.objects.filter(household__in=ctx.households, is_member=True)
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values_list("household", "n")
    )
    for r in records:
        hh: Household = r.household
        n = members.get(hh.id, 0)
        if not n:
            continue
        facts = IncomeFacts(
            period_start=r.period_start,
            period_end=r.period_end,
            wage=r.wage,
            production_business=r.production_business,
            property_income=r.property_income,
            transfer=r.transfer,
            production_expense=r.production_expense,
            insurance_payout=r.insurance_payout,
            compliant_out_of_pocket=r.compliant_out_of_pocket,
        )
        payout = bool(param("income.include_insurance_payout", hh.village_id[:6], r.period_end))
        res = per_capita_net_income(
            [facts],
            members=n,
            month=clock.add_months(r.period_end.replace(day=1), 1),
            window_months=facts.months,
            include_insurance_payout=payout,
        )
        if abs(res.per_capita - r.stated_per_capita) > STATED_TOLERANCE:
            yield Finding(
                C.INCOME_STATED,
                hh.id,
                f"户{hh.household_no}：来源文件填报人均纯收入{r.stated_per_capita}元，"
                f"按收入分项和{n}名家庭成员计算为{res.per_capita}元"
                f"（{r.period_start:%Y%m}—{r.period_end:%Y%m}），请核实收入分项或家庭人口",
                None,
                "income",
            )
