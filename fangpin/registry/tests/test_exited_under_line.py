"""P-EXITED-UNDER-LINE with the year's figures from one grouped query (``checks.income.year_figures``) gives
what the rule's earlier formulation — a subquery per income component (``annotate_year_net``) compared in
SQL — gave: the same households, messages and order, over a county and over each household alone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from fangpin.core import clock
from fangpin.monitoring.models import MonitoringObject
from fangpin.registry.checks import codes as C
from fangpin.registry.checks import income as rule
from fangpin.registry.checks.base import Finding
from fangpin.registry.checks.report import context_for
from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person
from fangpin.registry.models.income import TRANSFER_FIELDS
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)

_MONEY = DecimalField(max_digits=14, decimal_places=2)
_ZERO = Value(Decimal(0), output_field=_MONEY)


def _sum(field: str, year: int) -> Subquery:
    return Coalesce(
        Subquery(
            IncomeRecord.objects.filter(
                household=OuterRef("pk"),
                period_start__gte=dt.date(year, 1, 1),
                period_end__lte=dt.date(year, 12, 31),
            )
            .order_by()
            .values("household")
            .annotate(s=Sum(field))
            .values("s")[:1],
            output_field=_MONEY,
        ),
        _ZERO,
    )


def annotate_year_net(qs, year: int, *, include_payout: bool):
    """The earlier rule's figures (main 63f242b, ``checks.income``): ``year_net`` (net income of ``year`` by
    the §5.1 formula), ``year_records`` and ``members``, a subquery per component."""
    parts = ["wage", "production_business", "property_income", *TRANSFER_FIELDS]
    if include_payout:
        parts.append("insurance_payout")
    records = Subquery(
        IncomeRecord.objects.filter(
            household=OuterRef("pk"),
            period_start__gte=dt.date(year, 1, 1),
            period_end__lte=dt.date(year, 12, 31),
        )
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    members = Subquery(
        Person.objects.filter(household=OuterRef("pk"), is_member=True)
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    qs = qs.annotate(**{f"y_{p}": _sum(p, year) for p in [*parts, "production_expense"]})
    total = sum((F(f"y_{p}") for p in parts[1:]), F(f"y_{parts[0]}")) - F("y_production_expense")
    return qs.annotate(
        year_net=ExpressionWrapper(total, output_field=_MONEY), year_records=records, members=members
    )


def _earlier(ctx) -> list[Finding]:
    """The rule as it was (main 63f242b): the year's net income and members annotated, compared in SQL."""
    from fangpin.registry.selectors import members_as_of
    from fangpin.registry.services.assessment import household_income_assess

    year = ctx.on.year - 1
    year_end = dt.date(year, 12, 31)
    monitored = rule.monitored_on(ctx.on, reviewed_after=year_end)
    changed_since = Exists(MemberChange.objects.filter(household=OuterRef("pk"), date__gt=year_end))
    out = []
    for county, _, households in rule.per_county(ctx):
        line = Decimal(str(rule.param_value_year("income.monitoring_line", county, year)))
        include = bool(rule.param_value_year("income.include_insurance_payout", county, year))
        exited = annotate_year_net(
            households.filter(household_type="脱贫户").exclude(id__in=monitored), year, include_payout=include
        ).annotate(changed_since=changed_since)
        qs = (
            exited.filter(year_records=1, members__gt=0, changed_since=False)
            .filter(year_net__lt=F("members") * Value(line, output_field=_MONEY))
            .values("id", "household_no", "year_net", "members")
        )
        rows = [(h["id"], h["household_no"], h["year_net"], h["members"]) for h in qs]
        for hh in exited.filter(year_records__gt=0).filter(Q(year_records__gt=1) | Q(changed_since=True)):
            n = len(members_as_of(hh.id, year_end))
            a = household_income_assess(hh, month=dt.date(year + 1, 1, 1), members=n)
            if not a.missing and a.per_capita < line:
                rows.append((hh.id, hh.household_no, a.result.net_income, n))
        for hid, no, net, members in sorted(rows):
            per = (Decimal(net) / members).quantize(Decimal("0.01"))
            out.append(
                Finding(
                    C.EXITED_UNDER_LINE,
                    hid,
                    f"脱贫户{no}：{year}年人均纯收入{per}元（{members}人），"
                    f"低于{year}年监测范围{line}元，但未纳入监测对象",
                    None,
                    "income",
                )
            )
    return out


@pytest.fixture
def county(db):
    with clock.pinned_today(TODAY):
        hhs = []

        def exited(*, members: int = 1, village: str = f.VILLAGE_A1, kind: str = "脱贫户") -> Household:
            hh = f.household(village, household_type=kind)
            for i in range(members):
                f.person(hh, name=f"成员{i}", relation="户主" if i == 0 else "之子")
            hhs.append(hh)
            return hh

        f.income(exited(), year=2024, wage=3000, transfer_dibao=500)  # under the line
        f.income(exited(members=2), year=2024, wage=30000)  # above it
        f.income(exited(members=2), year=2024, wage=9000, production_expense=1000, insurance_payout=4000)
        f.income(exited(village=f.VILLAGE_B1), year=2024, wage="7299.99")  # another township, a cent under
        f.income(exited(), year=2024, wage=100, property_income="0.01")
        f.income(exited(), year=2023, wage=100)  # no record of 2024: not judged here
        f.income(exited(members=0), year=2024, wage=100)  # nobody: no per-capita figure
        f.income(exited(kind="一般农户"), year=2024, wage=100)  # not a 脱贫户
        watched = exited()
        f.income(watched, year=2024, wage=100)
        MonitoringObject.objects.create(  # a monitoring object: not this rule's
            household=watched, category="脱贫不稳定户", identified_on=dt.date(2024, 6, 1), origin="procedure"
        )
        halves = exited()  # two half-year records: the income rule judges it
        for start, end in (
            (dt.date(2024, 1, 1), dt.date(2024, 6, 30)),
            (dt.date(2024, 7, 1), dt.date(2024, 12, 31)),
        ):
            IncomeRecord.objects.create(
                household=halves, period_start=start, period_end=end, wage=Decimal(2000)
            )
        moved = exited(members=2)  # a member change after the year: judged over the members of 31 December
        f.income(moved, year=2024, wage=13000)
        MemberChange.objects.create(
            household=moved, person=moved.persons.first(), kind="death", date=dt.date(2025, 2, 1)
        )
        return hhs


def test_the_grouped_figures_give_the_earlier_findings(county):
    ctx = context_for(Household.objects.filter(pk__in=[h.pk for h in county]), on=TODAY)
    new = list(rule.exited_under_line(ctx))
    assert new == _earlier(ctx)
    assert len(new) >= 4 and len({x.household_id for x in new}) == len(new)
    for hh in county:
        one = context_for(Household.objects.filter(pk=hh.pk), on=TODAY)
        assert list(rule.exited_under_line(one)) == _earlier(one)
