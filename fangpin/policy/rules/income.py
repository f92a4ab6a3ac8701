"""人均纯收入 (per-capita net income): one function, from the components, over a 12-month window.

Formula (policy-research §5.1): (工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出 [+ 理赔收入]) / 家庭人口.
Excluded from 转移性: earmarked subsidies (易地搬迁补助, 危房改造补助, 圈舍改造补助) and one-off aid
(慰问金, 临时生活补助, 一次性救济金) — they are kept on the record under ``excluded`` but never counted.
For 突发严重困难户 the comparison uses income after 合规自付支出 (rigid spending).

Overlapping records never add up (issue #14): a record is the household's whole income for its period, and
for each month the latest recorded record covering that month counts (the earlier one stays, as history,
and still counts for its months no later record covers). A 12-month record entered beside an imported
calendar year therefore replaces the year's overlapping months instead of being added to them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext
from fractions import Fraction

COMPONENTS = (
    "wage",
    "production_business",
    "property_income",
    "transfer",
    "production_expense",
    "insurance_payout",
    "compliant_out_of_pocket",
)
TRANSFER_ITEMS = (
    "transfer_pension",
    "transfer_dibao",
    "transfer_tekun",
    "transfer_eco_compensation",
    "transfer_family_planning",
    "transfer_subsidies",
    "transfer_support",
    "transfer_other",
)


@dataclass(frozen=True)
class IncomeFacts:
    """One income record: amounts for the period [period_start, period_end] (inclusive, whole months)."""

    period_start: dt.date
    period_end: dt.date
    wage: Decimal = Decimal(0)
    production_business: Decimal = Decimal(0)
    property_income: Decimal = Decimal(0)
    transfer: Decimal = Decimal(0)  # sum of the counted transfer items
    production_expense: Decimal = Decimal(0)
    insurance_payout: Decimal = Decimal(0)
    compliant_out_of_pocket: Decimal = Decimal(0)
    recorded_at: dt.datetime | None = None  # when the record was last written: the later one wins a month

    @property
    def months(self) -> int:
        return (
            (self.period_end.year - self.period_start.year) * 12
            + self.period_end.month
            - self.period_start.month
            + 1
        )


@dataclass
class IncomeResult:
    window_start: dt.date
    window_end: dt.date
    members: int
    months_covered: int
    totals: dict[str, Decimal]
    net_income: Decimal
    per_capita: Decimal
    per_capita_after_rigid: Decimal
    warnings: list[str] = field(default_factory=list)


def income_window(month: dt.date, months: int = 12) -> tuple[dt.date, dt.date]:
    """12 months before ``month``: identified June 2021 → 2020-06-01 … 2021-05-31."""
    first = month.replace(day=1)
    y, m = divmod(first.month - 1 - months, 12)
    start = dt.date(first.year + y, m + 1, 1)
    end = first - dt.timedelta(days=1)
    return start, end


def _month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def _month_label(i: int) -> str:
    return f"{i // 12}年{i % 12 + 1}月"


def _q(x: Decimal | Fraction) -> Decimal:
    """To the fen, half away from zero (ROUND_HALF_UP), from an exact value: 7,599.995 is 7,600.00."""
    if isinstance(x, Fraction):
        fen = int(abs(x) * 100 + Fraction(1, 2))
        return Decimal(fen if x >= 0 else -fen).scaleb(-2).quantize(Decimal("0.01"))
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _shares_totals(shares: list[tuple[IncomeFacts, int]], zero: dict[str, Fraction]) -> dict[str, Fraction]:
    """Σ amount × months it speaks for ÷ the record's months, per component, exactly. The sums are made in
    ``Decimal`` per record length (exact: the ``Inexact`` trap is set, amounts are to the fen) and divided
    once per length; should a sum not be exact (e.g. a float amount), the per-record ``Fraction`` sum. The
    same ``Fraction`` either way (a household file computes four windows, each with ~10 records × 8 parts)."""
    try:
        with localcontext() as ctx:
            ctx.traps[Inexact] = True
            ctx.prec = 60
            sums: dict[tuple[str, int], Decimal] = {}
            for r, k in shares:
                n = r.months
                for c in COMPONENTS:
                    key = (c, n)
                    sums[key] = sums.get(key, Decimal(0)) + Decimal(getattr(r, c)) * k
    except Inexact:
        totals = dict(zero)
        for r, k in shares:
            for c in COMPONENTS:
                totals[c] += Fraction(Decimal(getattr(r, c))) * k / r.months
        return totals
    totals = dict(zero)
    for (c, n), v in sums.items():
        totals[c] += Fraction(v) / n
    return totals


def per_capita_net_income(
    records: list[IncomeFacts],
    *,
    members: int,
    month: dt.date,
    window_months: int = 12,
    include_insurance_payout: bool = True,
) -> IncomeResult:
    """Prorates each record to its overlap with the window, scales a partly covered window to a year."""
    start, end = income_window(month, window_months)
    w0, w1 = _month_index(start), _month_index(end)
    # exact arithmetic (a month's share of a 12-month amount is amount/12, not a 28-digit approximation
    # of it), rounded once at the end: the vectorised what-if evaluator gives the same fen
    totals = {c: Fraction(0) for c in COMPONENTS}
    warnings: list[str] = []
    # month → (recording order, record): the latest recorded record covering the month counts
    chosen: dict[int, tuple[tuple, IncomeFacts]] = {}
    overlapped: set[int] = set()
    for i, r in enumerate(records):
        r0, r1 = _month_index(r.period_start), _month_index(r.period_end)
        key = (r.recorded_at is not None, r.recorded_at or dt.datetime.min, i)
        for m in range(max(r0, w0), min(r1, w1) + 1):
            if m in chosen:
                overlapped.add(m)
                if chosen[m][0] > key:
                    continue
            chosen[m] = (key, r)
    shares: dict[int, tuple[IncomeFacts, int]] = {}  # record → months of the window it speaks for
    for _m, (_key, r) in chosen.items():
        rec, k = shares.get(id(r), (r, 0))
        shares[id(r)] = (rec, k + 1)
    totals = _shares_totals(list(shares.values()), totals)
    covered = set(chosen)
    if overlapped:
        lo, hi = min(overlapped), max(overlapped)
        warnings.append(
            f"{_month_label(lo)}至{_month_label(hi)}有多条收入记录，每月只计最后登记的一条，不相加"
        )
    n_cov = len(covered)
    if n_cov == 0:
        warnings.append("收入记录未覆盖计算期间，无法计算人均纯收入")
    elif n_cov < window_months:
        scale = Fraction(window_months, n_cov)
        totals = {k: v * scale for k, v in totals.items()}
        warnings.append(f"收入记录只覆盖{n_cov}个月，已按{window_months}个月折算")
    net = totals["wage"] + totals["production_business"] + totals["property_income"] + totals["transfer"]
    net -= totals["production_expense"]
    if include_insurance_payout:
        net += totals["insurance_payout"]
    if members <= 0:
        warnings.append("家庭人口为0，无法计算人均")
    per = net / members if members > 0 else Fraction(0)
    per_rigid = (net - totals["compliant_out_of_pocket"]) / members if members > 0 else Fraction(0)
    return IncomeResult(
        window_start=start,
        window_end=end,
        members=members,
        months_covered=n_cov,
        totals={k: _q(v) for k, v in totals.items()},
        net_income=_q(net),
        per_capita=_q(per),
        per_capita_after_rigid=_q(per_rigid),
        warnings=warnings,
    )
