"""统计分析 indicators by township: one table of definitions that the dashboard, the 月推进 / 季通报 tables
and the drill-down lists all read, so a number and the list behind it can never disagree.

Every indicator is computed from region-scoped querysets (``accounts.scope.scoped``) for a reporting
period [start, end] and a business date ``on`` (normally ``end``). Each indicator says how to count it
(households) and how to list it (``indicator_households``: the Household ids behind the number)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median
from typing import Any

from django.db.models import Count, Q, QuerySet

from fangpin.accounts.scope import scoped
from fangpin.core.errors import DomainError
from fangpin.monitoring.models import (
    Case,
    CaseKind,
    CaseStatus,
    Category,
    Lead,
    LeadSource,
    Measure,
    MeasureStatus,
    MonitoringObject,
    ObjectStatus,
    Visit,
)
from fangpin.policy.params import param_value
from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household

E_INDICATOR = "report_indicator_unknown"
E_PERIOD = "report_period_invalid"

CHANNEL_LABELS = {
    "self_application": "农户自主申报",
    "cadre_visit": "基层干部排查",
    "department_screening": "部门筛查预警",
}
INCOME_BANDS: list[tuple[str, float | None, float | None]] = [
    ("低于监测线50%", None, 0.5),
    ("监测线50%–80%", 0.5, 0.8),
    ("监测线80%–100%", 0.8, 1.0),
    ("监测线100%–120%", 1.0, 1.2),
    ("监测线120%–150%", 1.2, 1.5),
    ("监测线150%以上", 1.5, None),
    ("无收入记录", None, None),
]


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise DomainError(E_PERIOD, "统计期末不能早于期初", field="end")

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}至{self.end:%Y-%m-%d}"


def month_period(year: int, month: int) -> Period:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise DomainError(E_PERIOD, "月份须为1–12，年度须在2000–2100之间", field="month")
    start = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return Period(start, nxt - dt.timedelta(days=1))


def quarter_period(year: int, quarter: int) -> Period:
    if quarter not in (1, 2, 3, 4):
        raise DomainError(E_PERIOD, "季度须为1–4", field="quarter")
    start = dt.date(year, 3 * quarter - 2, 1)
    end = month_period(year, 3 * quarter).end
    return Period(start, end)


def _township(code: str) -> str:
    return code[:9] + "000"


# --- querysets behind the numbers (all scoped) -------------------------------------------------------


def _objects_active(actor, p: Period) -> QuerySet[MonitoringObject]:
    """Monitoring objects in monitoring on the last day of the period (business dates, not status)."""
    return (
        scoped(actor, MonitoringObject.objects.all())
        .filter(Q(eliminated_on__isnull=True) | Q(eliminated_on__gt=p.end), identified_on__lte=p.end)
        .exclude(status=ObjectStatus.REVOKED)
    )


def _objects_ever(actor, p: Period) -> QuerySet[MonitoringObject]:
    return (
        scoped(actor, MonitoringObject.objects.all())
        .filter(identified_on__lte=p.end)
        .exclude(status=ObjectStatus.REVOKED)
    )


def _objects_new(actor, p: Period) -> QuerySet[MonitoringObject]:
    return _objects_ever(actor, p).filter(identified_on__gte=p.start)


def _objects_eliminated(actor, p: Period) -> QuerySet[MonitoringObject]:
    return scoped(actor, MonitoringObject.objects.all()).filter(eliminated_on__range=(p.start, p.end))


def _objects_eliminated_total(actor, p: Period) -> QuerySet[MonitoringObject]:
    return scoped(actor, MonitoringObject.objects.all()).filter(eliminated_on__lte=p.end)


def _current_measures(actor, p: Period) -> QuerySet[Measure]:
    return scoped(actor, Measure.objects.all()).filter(
        Q(end_on__isnull=True) | Q(end_on__gte=p.end),
        start_on__lte=p.end,
        status__in=[MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS, MeasureStatus.DONE],
    )


def _objects_with_measures(actor, p: Period) -> QuerySet[MonitoringObject]:
    ids = _current_measures(actor, p).values("monitoring_object_id")
    return _objects_active(actor, p).filter(pk__in=ids)


def _objects_protected(actor, p: Period) -> QuerySet[MonitoringObject]:
    """兜底: active objects with a current 综合保障 (protection) measure of the catalogue."""
    ids = _current_measures(actor, p).filter(kind="protection").values("monitoring_object_id")
    return _objects_active(actor, p).filter(pk__in=ids)


def _lead_sources(actor, p: Period) -> QuerySet[LeadSource]:
    return scoped(actor, LeadSource.objects.all()).filter(submitted_on__range=(p.start, p.end))


def _leads_closed(actor, p: Period) -> QuerySet[Lead]:
    return scoped(actor, Lead.objects.all()).filter(closed_on__range=(p.start, p.end))


def _cases_open_at_end(actor, p: Period) -> QuerySet[Case]:
    return (
        scoped(actor, Case.objects.all())
        .filter(started_on__lte=p.end)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=p.end))
    )


def _cases_overdue(actor, p: Period) -> QuerySet[Case]:
    return _cases_open_at_end(actor, p).filter(due_on__lt=p.end)


def _identifications_done(actor, p: Period) -> QuerySet[Case]:
    return scoped(actor, Case.objects.all()).filter(
        kind=CaseKind.IDENTIFICATION, status=CaseStatus.APPROVED, closed_on__range=(p.start, p.end)
    )


def _visits(actor, p: Period) -> QuerySet[Visit]:
    return scoped(actor, Visit.objects.all()).filter(visited_on__range=(p.start, p.end))


def _objects_visited(actor, p: Period) -> QuerySet[MonitoringObject]:
    return _objects_active(actor, p).filter(household_id__in=_visits(actor, p).values("household_id"))


def _category_source(category: str) -> Callable[[Any, Period], QuerySet]:
    return lambda a, p: _objects_active(a, p).filter(category=category)


def _channel_source(channel: str) -> Callable[[Any, Period], QuerySet]:
    return lambda a, p: _lead_sources(a, p).filter(channel=channel)


# --- the indicator table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str
    # (actor, period) -> queryset with ``village_id`` and ``household_id`` (or Household itself)
    source: Callable[[Any, Period], QuerySet]
    household_field: str = "household_id"


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in [
        Indicator("objects", "监测对象（户）", "户", _objects_active),
        *[
            Indicator(
                f"objects_{c.name.lower()}",
                f"{c.label}（户）",
                "户",
                _category_source(c.value),
            )
            for c in Category
        ],
        Indicator("new", "新识别（户）", "户", _objects_new),
        Indicator("eliminated", "风险消除（户）", "户", _objects_eliminated),
        Indicator("eliminated_total", "累计风险消除（户）", "户", _objects_eliminated_total),
        Indicator("ever", "累计纳入监测（户）", "户", _objects_ever),
        Indicator("with_measures", "已落实帮扶措施（户）", "户", _objects_with_measures),
        Indicator("protected", "综合保障兜底（户）", "户", _objects_protected),
        Indicator("leads", "收到线索（条）", "条", _lead_sources),
        *[
            Indicator(
                f"leads_{ch}",
                f"{label}（条）",
                "条",
                _channel_source(ch),
            )
            for ch, label in CHANNEL_LABELS.items()
        ],
        Indicator("leads_closed", "线索办结（条）", "条", _leads_closed),
        Indicator("identified_cases", "完成识别程序（件）", "件", _identifications_done),
        Indicator("cases_open", "在办程序（件）", "件", _cases_open_at_end),
        Indicator("cases_overdue", "超期未办结（件）", "件", _cases_overdue),
        Indicator("visited", "本期已走访监测户（户）", "户", _objects_visited),
    ]
}

# ratio indicators: numerator / denominator (both codes above), shown as a percentage
RATIOS: dict[str, tuple[str, str, str]] = {
    "eliminated_share": ("风险消除占比", "eliminated_total", "ever"),
    "measure_coverage": ("帮扶措施覆盖率", "with_measures", "objects"),
    "overdue_rate": ("超期率", "cases_overdue", "cases_open"),
    "visit_coverage": ("走访覆盖率", "visited", "objects"),
}


def _by_township(qs: QuerySet, *, distinct_households: bool, household_field: str) -> Counter:
    counts: Counter = Counter()
    if distinct_households:
        rows = qs.values_list("village_id", household_field).distinct()
        for village, _hh in rows:
            counts[_township(village)] += 1
    else:
        for row in qs.values("village_id").annotate(n=Count("pk")):
            counts[_township(row["village_id"])] += row["n"]
    return counts


def _persons_by_township(actor, qs: QuerySet, household_field: str) -> Counter:
    """Persons (current members) of the households behind ``qs``, by the township of the record."""
    per_hh = dict(
        Household.objects.filter(pk__in=qs.values(household_field))
        .annotate(n=Count("persons", filter=Q(persons__is_member=True)))
        .values_list("pk", "n")
    )
    out: Counter = Counter()
    for village, hh in qs.values_list("village_id", household_field).distinct():
        out[_township(village)] += per_hh.get(hh, 0)
    return out


@dataclass
class TownshipRow:
    code: str
    name: str
    values: dict[str, float | int | None] = field(default_factory=dict)


@dataclass
class IndicatorTable:
    period: Period
    rows: list[TownshipRow]
    total: TownshipRow
    extra: dict[str, Any] = field(default_factory=dict)


def townships_for(actor) -> list[Region]:
    prefix = getattr(actor, "scope_prefix", None)
    if prefix is None:
        return []
    qs = Region.objects.filter(level=Level.TOWNSHIP, code__startswith=prefix)
    if not qs.exists() and len(prefix) >= 9:  # a village user: its own township
        qs = Region.objects.filter(code=prefix[:9] + "000")
    return list(qs.order_by("code"))


def _pct(num: float | int | None, den: float | int | None) -> float | None:
    if not den:
        return None
    return round(100.0 * float(num or 0) / float(den), 1)


def indicator_table(*, actor, period: Period, codes: list[str] | None = None) -> IndicatorTable:
    """Every indicator (or ``codes``) by township for the actor's region, with a 合计 row."""
    codes = codes or list(INDICATORS)
    towns = townships_for(actor)
    rows = {t.code: TownshipRow(t.code, t.name) for t in towns}
    total = TownshipRow("", "合计")
    for code in codes:
        ind = INDICATORS[code]
        qs = ind.source(actor, period)
        households = ind.unit == "户"
        counts = _by_township(qs, distinct_households=households, household_field=ind.household_field)
        for t, row in rows.items():
            row.values[code] = counts.get(t, 0)
        total.values[code] = sum(counts.values())
        if code in ("objects", "new", "eliminated"):
            persons = _persons_by_township(actor, qs, ind.household_field)
            for t, row in rows.items():
                row.values[f"{code}_persons"] = persons.get(t, 0)
            total.values[f"{code}_persons"] = sum(persons.values())
    for rcode, (_label, num, den) in RATIOS.items():
        if num in codes and den in codes:
            for row in [*rows.values(), total]:
                row.values[rcode] = _pct(row.values.get(num), row.values.get(den))
    durations = identification_durations(actor=actor, period=period)
    for t, row in rows.items():
        row.values["duration_median"] = durations.get(t)
    total.values["duration_median"] = durations.get("")
    return IndicatorTable(period, list(rows.values()), total)


def identification_durations(*, actor, period: Period) -> dict[str, float | None]:
    """Median days from lead to 县级审定 for identifications approved in the period, per township and
    overall (key "")."""
    per: dict[str, list[int]] = defaultdict(list)
    for village, started, closed, opened in _identifications_done(actor, period).values_list(
        "village_id", "started_on", "closed_on", "lead__opened_on"
    ):
        days = (closed - (opened or started)).days
        per[_township(village)].append(days)
        per[""].append(days)
    return {k: float(median(v)) for k, v in per.items()}


def leads_by_channel(*, actor, period: Period) -> dict[str, dict[str, int]]:
    """Reports received in the period by channel, and how their leads stand now (outcome or still open)."""
    out: dict[str, dict[str, int]] = defaultdict(Counter)
    labels = dict(LeadSource._meta.get_field("channel").choices)
    outcome_labels = dict(Lead._meta.get_field("outcome").choices)
    for channel, status, outcome in _lead_sources(actor, period).values_list(
        "channel", "lead__status", "lead__outcome"
    ):
        how = outcome_labels.get(outcome) if outcome else ("识别程序中" if status == "in_case" else "待核实")
        out[labels.get(channel, channel)][how] += 1
    return {k: dict(v) for k, v in out.items()}


def leads_by_department(*, actor, period: Period) -> dict[str, dict[str, int]]:
    """Department-screening reports in the period by department (from the hit evidence) and outcome."""
    out: dict[str, dict[str, int]] = defaultdict(Counter)
    outcome_labels = dict(Lead._meta.get_field("outcome").choices)
    qs = _lead_sources(actor, period).filter(channel="department_screening")
    for evidence, status, outcome in qs.values_list("evidence", "lead__status", "lead__outcome"):
        hits = (evidence or {}).get("hits") or [{}]
        dept = hits[0].get("department") or "未注明部门"
        how = outcome_labels.get(outcome) if outcome else ("识别程序中" if status == "in_case" else "待核实")
        out[dept][how] += 1
    return {k: dict(v) for k, v in out.items()}


def income_distribution(*, actor, on: dt.date, only_objects: bool = True) -> dict[str, Any]:
    """Households by 人均纯收入 against the monitoring line (``policy.rules.income`` over the 12 months
    before ``on``'s month, current members), in bands of the line; monitoring objects only by default."""
    from fangpin.policy.rules.income import per_capita_net_income
    from fangpin.registry.services.assessment import income_facts

    month = on.replace(day=1)
    hhs = scoped(actor, Household.objects.all())
    if only_objects:
        hhs = hhs.filter(pk__in=_objects_active(actor, Period(on, on)).values("household_id"))
    hhs = hhs.annotate(n=Count("persons", filter=Q(persons__is_member=True))).prefetch_related(
        "income_records"
    )
    params: dict[str, tuple[int, bool, Decimal]] = {}
    bands: Counter = Counter()
    by_town: dict[str, Counter] = defaultdict(Counter)
    band_households: dict[str, list[int]] = defaultdict(list)
    for hh in hhs.iterator(chunk_size=2000):
        town = _township(hh.village_id)
        if town not in params:
            params[town] = (
                int(param_value("income.window_months", region_code=hh.village_id, year=month.year)),
                bool(
                    param_value("income.include_insurance_payout", region_code=hh.village_id, year=month.year)
                ),
                Decimal(
                    str(param_value("income.monitoring_line", region_code=hh.village_id, year=month.year))
                ),
            )
        window, payout, line = params[town]
        res = per_capita_net_income(
            income_facts(hh),
            members=max(hh.n, 1),
            month=month,
            window_months=window,
            include_insurance_payout=payout,
        )
        if res.months_covered == 0:
            band = INCOME_BANDS[-1][0]
        else:
            ratio = float(res.per_capita / line) if line else 0.0
            band = next(
                b
                for b, lo, hi in INCOME_BANDS[:-1]
                if (lo is None or ratio >= lo) and (hi is None or ratio < hi)
            )
        bands[band] += 1
        by_town[town][band] += 1
        band_households[band].append(hh.pk)
    lines = sorted({str(v[2]) for v in params.values()})
    return {
        "bands": [b for b, _, _ in INCOME_BANDS],
        "counts": [bands.get(b, 0) for b, _, _ in INCOME_BANDS],
        "by_township": {t: dict(c) for t, c in by_town.items()},
        "households": dict(band_households),
        "lines": lines,
    }


def indicator_households(*, actor, code: str, period: Period, township: str = "") -> QuerySet[Household]:
    """The households behind one number of ``indicator_table`` (drill-down), scoped like the number."""
    if code not in INDICATORS:
        raise DomainError(E_INDICATOR, f"未知的统计指标“{code}”", field="code")
    ind = INDICATORS[code]
    qs = ind.source(actor, period)
    if township:
        qs = qs.filter(village__code__startswith=township[:9])
    ids = qs.values(ind.household_field)
    return scoped(actor, Household.objects.all()).filter(pk__in=ids).order_by("household_no")


def household_rows(households: list[Household]) -> list[dict[str, Any]]:
    """One page of a drill-down list: household number, village, type, masked head name."""
    from fangpin.core.masking import mask_name
    from fangpin.registry.models import Person

    ids = [h.pk for h in households]
    heads = dict(
        Person.objects.filter(household_id__in=ids, relation="户主", is_member=True).values_list(
            "household_id", "name"
        )
    )
    villages = dict(
        Region.objects.filter(code__in={h.village_id for h in households}).values_list("code", "name")
    )
    return [
        {
            "id": h.pk,
            "household_no": h.household_no,
            "village": villages.get(h.village_id, h.village_id),
            "household_type": h.household_type,
            "head": mask_name(heads.get(h.pk, "")),
        }
        for h in households
    ]


def income_band_households(*, actor, on: dt.date, band: int) -> QuerySet[Household]:
    dist = income_distribution(actor=actor, on=on)
    if not 0 <= band < len(dist["bands"]):
        raise DomainError(E_INDICATOR, "未知的收入分段", field="band")
    ids = dist["households"].get(dist["bands"][band], [])
    return scoped(actor, Household.objects.filter(pk__in=ids)).order_by("household_no")
