import datetime as dt
from decimal import Decimal

from fangpin.policy.rules.income import IncomeFacts, income_window, per_capita_net_income


def test_window_is_twelve_months_before_the_month():
    assert income_window(dt.date(2021, 6, 15)) == (dt.date(2020, 6, 1), dt.date(2021, 5, 31))


def test_formula_and_rigid_spending():
    rec = IncomeFacts(
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
        wage=Decimal(20000),
        production_business=Decimal(6000),
        property_income=Decimal(1000),
        transfer=Decimal(3000),
        production_expense=Decimal(2000),
        insurance_payout=Decimal(1000),
        compliant_out_of_pocket=Decimal(9000),
    )
    r = per_capita_net_income([rec], members=4, month=dt.date(2025, 1, 1))
    assert r.net_income == Decimal("29000.00")  # 20000+6000+1000+3000-2000+1000
    assert r.per_capita == Decimal("7250.00")
    assert r.per_capita_after_rigid == Decimal("5000.00")
    r2 = per_capita_net_income([rec], members=4, month=dt.date(2025, 1, 1), include_insurance_payout=False)
    assert r2.per_capita == Decimal("7000.00")


def test_prorates_records_overlapping_the_window():
    y1 = IncomeFacts(dt.date(2023, 1, 1), dt.date(2023, 12, 31), wage=Decimal(12000))
    y2 = IncomeFacts(dt.date(2024, 1, 1), dt.date(2024, 12, 31), wage=Decimal(24000))
    r = per_capita_net_income([y1, y2], members=1, month=dt.date(2024, 7, 1))  # 2023-07 … 2024-06
    assert r.months_covered == 12
    assert r.per_capita == Decimal("18000.00")  # 6 × 1000 + 6 × 2000


def test_partial_coverage_is_annualised_with_a_warning():
    m = IncomeFacts(dt.date(2024, 4, 1), dt.date(2024, 6, 30), wage=Decimal(3000))
    r = per_capita_net_income([m], members=1, month=dt.date(2024, 7, 1))
    assert r.months_covered == 3 and r.per_capita == Decimal("12000.00") and r.warnings


def test_half_a_fen_is_rounded_up_from_the_exact_value():
    """15,199.99 over twelve months for two persons is exactly 7,599.995 a head: 7,600.00 (ROUND_HALF_UP),
    not the 7,599.99 that twelve 28-digit twelfths added up gave (found by the what-if's proof test)."""
    import datetime as dt
    from decimal import Decimal

    from fangpin.policy.rules.income import IncomeFacts, per_capita_net_income

    rec = IncomeFacts(
        period_start=dt.date(2024, 7, 1), period_end=dt.date(2025, 6, 30), wage=Decimal("15199.99")
    )
    res = per_capita_net_income([rec], members=2, month=dt.date(2025, 7, 1))
    assert res.per_capita == Decimal("7600.00") and res.net_income == Decimal("15199.99")
    neg = IncomeFacts(period_start=dt.date(2024, 7, 1), period_end=dt.date(2025, 6, 30),
                      production_expense=Decimal("0.01"))  # fmt: skip
    assert per_capita_net_income([neg], members=2, month=dt.date(2025, 7, 1)).per_capita == Decimal("-0.01")


def test_the_exact_totals_are_the_per_record_fraction_sums():
    """``_shares_totals`` (Decimal sums per record length, divided once) against the per-record Fraction sum
    it replaces, for amounts to the fen, odd record lengths, and float amounts (the Fraction path)."""
    import random
    from fractions import Fraction

    from fangpin.policy.rules.income import COMPONENTS, IncomeFacts, _shares_totals

    def reference(shares):
        totals = {c: Fraction(0) for c in COMPONENTS}
        for r, k in shares:
            for c in COMPONENTS:
                totals[c] += Fraction(Decimal(getattr(r, c))) * k / r.months
        return totals

    rnd = random.Random(9)
    for case in range(300):
        shares = []
        for _ in range(rnd.randint(0, 6)):
            start = dt.date(2024, rnd.randint(1, 12), 1)
            months = rnd.choice([1, 3, 5, 7, 11, 12, 13, 24])
            y, m = divmod(start.month - 1 + months - 1, 12)
            end = dt.date(start.year + y, m + 1, 1)
            amounts = {
                c: (rnd.random() * 1e5 if case % 7 == 0 else Decimal(rnd.randint(-(10**8), 10**8)) / 100)
                for c in COMPONENTS
            }
            shares.append((IncomeFacts(start, end, **amounts), rnd.randint(1, months)))
        zero = {c: Fraction(0) for c in COMPONENTS}
        assert _shares_totals(shares, zero) == reference(shares), case
        assert zero == {c: Fraction(0) for c in COMPONENTS}
