"""Per-request parameter memo: inside ``param_cache()`` a lookup reads the database once; a change made in
the same request is seen at once; outside it every lookup reads."""

from __future__ import annotations

from fangpin.policy.params import param_cache, param_value, parameter_set

KEY, REGION = "income.monitoring_line", "410506205201"


def test_lookups_are_read_once_inside_the_cache(db, personas, django_assert_num_queries):
    with param_cache():
        first = param_value(KEY, region_code=REGION, year=2024)
        with django_assert_num_queries(0):
            assert param_value(KEY, region_code=REGION, year=2024) == first
        parameter_set(
            actor=personas["county_admin"], key=KEY, value=9999, region_code="410506", year=2024, basis="测试"
        )
        assert param_value(KEY, region_code=REGION, year=2024) == 9999
    with django_assert_num_queries(1):
        param_value(KEY, region_code=REGION, year=2024)
