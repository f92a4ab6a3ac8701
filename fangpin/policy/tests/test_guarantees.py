import datetime as dt

from fangpin.policy.rules.guarantees import GuaranteeParams, HouseholdFacts, MemberFacts, judge_guarantees

P = GuaranteeParams((6, 15), ("C", "D"), 35, 20, 20, 800, 80, 36)
ON = dt.date(2025, 6, 1)


def kid(**kw):
    return MemberFacts(name="小明", birth_date=dt.date(2014, 1, 1), medical_resident=True, **kw)


def test_all_good():
    assert judge_guarantees(HouseholdFacts(members=(kid(),), house_grade="B"), P, on=ON).ok


def test_each_failure_is_named():
    facts = HouseholdFacts(
        members=(kid(out_of_school=True), MemberFacts(name="老王", birth_date=dt.date(1950, 1, 1))),
        house_grade="D",
        water_litres_per_day=15,
        water_quality_ok=False,
        water_piped=False,
        water_fetch_minutes=40,
        water_horizontal_m=1500,
        water_interruption_days=50,
    )
    res = judge_guarantees(facts, P, on=ON)
    codes = {(f.dimension, f.code) for f in res.failures}
    assert codes == {
        ("education", "dropout"),
        ("medical", "uninsured"),
        ("housing", "unsafe_house"),
        ("water", "quantity"),
        ("water", "quality"),
        ("water", "convenience"),
        ("water", "reliability"),
    }
    assert any("老王" in f.message for f in res.failures)


def test_exempt_dropout_and_convenient_by_one_criterion():
    facts = HouseholdFacts(
        members=(kid(out_of_school=True, out_of_school_reason="因残"),),
        water_piped=False,
        water_fetch_minutes=40,
        water_horizontal_m=500,
    )
    assert judge_guarantees(facts, P, on=ON).ok


def test_scarce_area_uses_lower_quantity():
    facts = HouseholdFacts(members=(kid(),), water_litres_per_day=25, water_scarce_area=True)
    assert judge_guarantees(facts, P, on=ON).ok
    assert not judge_guarantees(HouseholdFacts(members=(kid(),), water_litres_per_day=25), P, on=ON).ok
