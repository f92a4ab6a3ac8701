"""setup and the demo generator for counties outside 河南: 福建 南平 浦城县, 安徽 宿州 泗县, 贵州 黔南 长顺县."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from fangpin.accounts.models import User
from fangpin.core.ids import validate_id_number
from fangpin.demo.generator.county import county_plan, rural_villages_from_db
from fangpin.demo.models import DemoDataset
from fangpin.demo.services.load import demo_county_generate
from fangpin.policy.models import Parameter
from fangpin.registry.models import Household, IncomeRecord, Person

COUNTIES = [("350722", "福建省", "浦城县"), ("341324", "安徽省", "泗县"), ("522729", "贵州省", "长顺县")]


def _setup(county: str) -> str:
    out = StringIO()
    call_command("setup", "--county", county, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("county,province,name", COUNTIES)
def test_setup_places_the_demo_users_in_a_county_of_any_province(county, province, name):
    out = _setup(county)
    assert "county_admin" in out
    admin = User.objects.get(username="county_admin")
    cadre = User.objects.get(username="village_cadre")
    assert admin.region_id == county.ljust(12, "0") and admin.region.name == name
    assert cadre.region.level == 5 and cadre.region_id.startswith(county)
    assert not cadre.region.is_residents_committee
    assert cadre.region.parent.parent.parent.parent.name == province
    assert User.objects.get(username="leader").display_name == ("区领导" if name.endswith("区") else "县领导")


@pytest.mark.django_db
def test_setup_wants_a_county_code():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是县级区划代码"):
        _setup("35")
    with pytest.raises(CommandError, match="没有999999的行政村"):
        _setup("999999")
    # a 12-digit county code is the county
    _setup("350722000000")
    assert User.objects.get(username="county_admin").region_id == "350722000000"


@pytest.mark.django_db
@pytest.mark.parametrize("county,province,name", COUNTIES)
def test_the_demo_generator_builds_a_county_of_any_province(county, province, name):
    _setup(county)
    villages = [v[0] for v in rural_villages_from_db(county)[:3]]
    res = demo_county_generate(
        actor=User.objects.get(username="county_admin"),
        county=county,
        seed=0,
        as_of=dt.date(2026, 6, 15),
        villages=villages,
        households_per_village=6,
        defect_rate=0.0,
    )
    hh = Household.objects.filter(village__code__startswith=county)
    assert hh.count() == res.counts["households"] >= 18
    assert set(hh.values_list("village_id", flat=True)) <= set(villages)
    persons = Person.objects.filter(household__in=hh)
    # ID numbers carry the county's own address code and are valid
    assert all(p.id_number.startswith(county) for p in persons[:50])
    assert all(validate_id_number(p.id_number, on=dt.date(2026, 6, 15)).ok for p in persons[:50])
    # incomes were drawn around the lines of the county's region: the demo (演示) national fallback
    # outside 河南, every year of the history covered
    ds = DemoDataset.objects.get(county_code=county)
    lines = {r["year"]: r for r in ds.params if r["key"] == "income.monitoring_line"}
    assert set(lines) >= {2021, 2022, 2023, 2024, 2025, 2026}
    for year in (2022, 2025):
        p = Parameter.objects.get(pk=lines[year]["id"])
        assert p.region_code == "" and p.basis.startswith("演示")
    assert IncomeRecord.objects.filter(household__in=hh, period_start__year=2025).count() == hh.count()


@pytest.mark.parametrize(
    "county,exited,ordinary",
    [
        ("341324", 24862, round(round(24862 * 0.1) * 0.015)),  # 泗县 (seed 002): 一般农户 share estimated
        ("411302", 4550, round(round(4550 * 0.1) * 0.015)),  # 宛城区 (seed 003)
        ("420625", 19139, round(275 * 0.1 * 0.35)),  # 谷城县 (seed 004): 275 边缘户和脱贫监测户
    ],
)
def test_a_seed_county_is_sized_from_its_registered_totals(county, exited, ordinary):
    villages = [(f"{county}{i:03d}201", f"村{i}", "县") for i in range(100)]
    specs = county_plan(county, seed=0, scale=0.1, villages=villages)
    assert sum(s.exited_households for s in specs) == round(exited * 0.1)
    assert sum(s.ordinary_households for s in specs) == ordinary


@pytest.mark.django_db
def test_the_checks_find_exactly_the_planted_defects_in_a_guizhou_county():
    from fangpin.demo.services.verify import compare_with_planted
    from fangpin.registry.checks import codes as C

    _setup("522729")  # 贵州 黔南 长顺县
    res = demo_county_generate(
        actor=User.objects.get(username="county_admin"),
        county="522729",
        seed=3,
        as_of=dt.date(2026, 6, 15),
        villages=[v[0] for v in rural_villages_from_db("522729")[:3]],
        households_per_village=40,
        defect_rate=0.03,
        min_defects_each=1,
    )
    assert res.enrolled == res.dataset.monitoring.count() > 0, res.enrol_errors
    comparison = compare_with_planted(res.dataset)
    assert {r.code for r in comparison} >= set(C.ALL)
    assert all(r.exact for r in comparison), [(r.code, r.planted, r.found) for r in comparison if not r.exact]


def test_the_nationality_mix_follows_the_province():
    from fangpin.demo.generator.county import plan
    from fangpin.demo.generator.params import gen_params_from_defaults
    from fangpin.demo.generator.village import generate_village

    def shares(county: str) -> dict[str, int]:
        villages = [(f"{county}100{i:03d}", f"村{i}", "县") for i in range(201, 211)]
        p = gen_params_from_defaults(county, dt.date(2026, 6, 15))
        counts: dict[str, int] = {}
        for spec in plan(villages, seed=1, exited_households=600, ordinary_households=0):
            for x in generate_village(spec, p, seed=1).persons:
                counts[x["ethnicity"]] = counts.get(x["ethnicity"], 0) + 1
        return counts

    guizhou, henan = shares("522729"), shares("410506")
    assert sum(n for e, n in guizhou.items() if e != "汉族") > 0.25 * sum(guizhou.values())
    assert {"苗族", "布依族"} <= set(guizhou)
    assert set(henan) <= {"汉族", "回族"} and henan.get("回族", 0) < 0.05 * sum(henan.values())
