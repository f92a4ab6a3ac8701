"""The 低于监测线 / 有逻辑校验问题 lists of one village read the flags rows' own village and 户编号 (registry
migration 0018, kept by the database); they must give the same households, in the same order, as the
county-wide path (the flags joined to the households the actor may see) — for village, township, county and
helper actors, with the region filter, after moves through the services, bulk ``update()``s and raw SQL, a
changed 户编号, a direct write of the kept columns and a rebuild of the flags; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fangpin.accounts.actors import system_actor
from fangpin.core import clock
from fangpin.monitoring.household_search import (
    HouseholdFilter,
    bounded_count,
    flag_list_count,
    flag_list_village,
    household_page_rows,
    household_rows,
    household_search,
    visible_households,
)
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.regions.models import code_prefix
from fangpin.registry.flags import household_flags_rebuild, household_flags_refresh
from fangpin.registry.models import Household, HouseholdFlags
from fangpin.registry.services.households import do_household_move
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)
ACTORS = ("cadre_a1", "cadre_a2", "cadre_b1", "township_a", "county_admin", "helper_a1")
FLAGS = ({"below_line": True}, {"has_findings": True}, {"below_line": True, "has_findings": True})


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def reference(actor, sort: str = "household_no", **kw) -> list[str]:
    """What a list must show: the actor's households whose flags (brought up to date) say so, in the sort's
    order — the county-wide path, which never reads the flags rows' own village or 户编号."""
    f_ = HouseholdFilter(**kw)
    base = visible_households(actor=actor, on=TODAY)
    household_flags_refresh(base, on=TODAY)
    qs = base
    if f_.region:
        qs = qs.filter(village__code__startswith=code_prefix(f_.region))
    if f_.below_line:
        qs = qs.filter(flags__below_line=True)
    if f_.has_findings:
        qs = qs.filter(flags__findings__gt=0)
    return [h.household_no for h in household_rows(qs, sort=sort)]  # the sort's annotations and order


def listed(actor, sort: str = "household_no", **kw) -> tuple[list[str], int]:
    """The list as the browser's view reads it: the count, then the page's rows (one page of 100)."""
    f_ = HouseholdFilter(sort=sort, **kw)
    qs, _updating = household_search(actor=actor, f=f_, on=TODAY, defer_flags=True, gate=False)
    n, _capped = bounded_count(qs)
    assert flag_list_count(actor, f_) in (None, (n, False))  # the village's count from its flags rows alone
    rows = household_page_rows(
        qs, sort=sort, offset=0, limit=100, values=True, flags_village=flag_list_village(actor, f_)
    )
    return [r["household_no"] for r in rows], n


def keys_consistent() -> bool:
    """Every flags row carries its household's village and 户编号."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM registry_householdflags fl JOIN registry_household h ON h.id = fl.household_id "
            "WHERE fl.village <> h.village_id OR fl.household_no <> h.household_no"
        )
        return cur.fetchone()[0] == 0


def assert_every_list_as_the_reference(personas) -> None:
    assert keys_consistent()
    for name in ACTORS:
        actor = personas[name]
        for flags in FLAGS:
            want = reference(actor, **flags)
            assert listed(actor, **flags) == (want, len(want)), (name, flags)
            for sort in ("-household_no", "village", "members", "type"):
                assert listed(actor, sort=sort, **flags)[0] == reference(actor, sort, **flags), (
                    name,
                    flags,
                    sort,
                )
    admin = personas["county_admin"]
    for village in (f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1):  # the region filter of a county actor
        want = reference(admin, region=village, below_line=True)
        assert listed(admin, region=village, below_line=True) == (want, len(want))
    assert listed(personas["cadre_a1"], region=f.VILLAGE_A2, has_findings=True) == ([], 0)  # not theirs


def numbers(*households: Household) -> list[str]:
    return sorted(h.household_no for h in households)


@pytest.fixture
def homes(personas, db):
    """Below the line (4,000 a head), above it (20,000), and a household with a malformed phone (a finding),
    in villages A1 and A2 of township A and B1 of township B; the helper of A1 helps two of them."""
    from fangpin.monitoring.services.assistance import assignment_set

    out = {}
    for v in (f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1):
        out[v, "poor"] = poor_exited_household(v, per_capita=4000)
        out[v, "poor2"] = poor_exited_household(v, per_capita=3000)
        out[v, "rich"] = poor_exited_household(v, per_capita=20000)
        bad = f.household(v, phone="12345")  # 户联系电话格式错误
        f.person(bad, name="赵一")
        out[v, "bad"] = bad
    for key in ("poor", "bad"):
        assignment_set(
            actor=personas["township_a"], household=out[f.VILLAGE_A1, key], user=personas["helper_a1"],
            kind="helper", on=TODAY,
        )  # fmt: skip
    return out


def test_the_village_lists_are_the_reference_lists(personas, homes):
    a1 = f.VILLAGE_A1
    cadre = personas["cadre_a1"]
    # not vacuous: the village's lists hold what the fixture put there
    assert listed(cadre, below_line=True) == (numbers(homes[a1, "poor"], homes[a1, "poor2"]), 2)
    assert homes[a1, "bad"].household_no in listed(cadre, has_findings=True)[0]
    assert listed(personas["helper_a1"], below_line=True) == ([homes[a1, "poor"].household_no], 1)
    assert_every_list_as_the_reference(personas)


def test_the_lists_follow_a_household_move_through_the_service(personas, homes):
    a1, a2 = f.VILLAGE_A1, f.VILLAGE_A2
    assert_every_list_as_the_reference(personas)  # the flags rows exist and are today's
    poor = homes[a1, "poor"]
    do_household_move(
        actor=personas["county_admin"], household=poor, to_village=a2, date=TODAY, reason="易地搬迁"
    )
    assert HouseholdFlags.objects.get(household=poor).village == a2
    assert poor.household_no not in listed(personas["cadre_a1"], below_line=True)[0]
    assert poor.household_no in listed(personas["cadre_a2"], below_line=True)[0]
    assert_every_list_as_the_reference(personas)


def test_the_lists_follow_bulk_and_raw_writes_of_the_household(personas, homes):
    a1, a2, b1 = f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1
    assert_every_list_as_the_reference(personas)
    Household.objects.filter(pk=homes[a2, "poor"].pk).update(village_id=b1)  # no signal, no touch
    with connection.cursor() as cur:
        cur.execute("UPDATE registry_household SET village_id = %s WHERE id = %s", [a1, homes[b1, "bad"].pk])
        # a new 户编号 that sorts first in its village: the list's order follows it
        cur.execute(
            "UPDATE registry_household SET household_no = %s WHERE id = %s",
            [f"{a1}000001", homes[a1, "poor2"].pk],
        )
    assert homes[a2, "poor"].household_no in listed(personas["cadre_b1"], below_line=True)[0]
    assert homes[b1, "bad"].household_no in listed(personas["cadre_a1"], has_findings=True)[0]
    assert listed(personas["cadre_a1"], below_line=True)[0][0] == f"{a1}000001"
    assert_every_list_as_the_reference(personas)


def test_a_direct_write_of_the_kept_columns_is_recomputed(personas, homes):
    assert_every_list_as_the_reference(personas)
    HouseholdFlags.objects.update(village=f.VILLAGE_B1, household_no="0")
    assert keys_consistent()
    assert_every_list_as_the_reference(personas)


def test_the_lists_after_a_rebuild_of_the_flags(personas, homes):
    HouseholdFlags.objects.all().delete()
    household_flags_rebuild(actor=system_actor("test"), on=TODAY, region_code=f.VILLAGE_A1)
    assert (
        HouseholdFlags.objects.filter(village=f.VILLAGE_A1).count()
        == Household.objects.filter(village_id=f.VILLAGE_A1).count()
    )
    assert_every_list_as_the_reference(personas)  # the other villages' rows are computed on the read
    household_flags_rebuild(actor=system_actor("test"), on=TODAY + dt.timedelta(days=1))  # another day's rows
    assert_every_list_as_the_reference(personas)  # recomputed for today first


def test_the_browser_list_shows_the_reference_rows_in_order(client, personas, homes):
    cadre = personas["cadre_a1"]
    client.force_login(cadre)
    for flags in ("below_line=1", "has_findings=1", "below_line=1&sort=-household_no"):
        page = client.get(f"/households/?{flags}").content.decode()
        shown = re.findall(r"\b(" + f.VILLAGE_A1 + r"\d+)\b", page)
        shown = list(dict.fromkeys(n for n in shown if len(n) > 12))  # 户编号s, once each, in page order
        want = reference(cadre, below_line="below" in flags, has_findings="findings" in flags)
        assert shown == (want[::-1] if "-household_no" in flags else want), flags


def test_a_village_list_reads_the_village_flags_index_on_postgresql(personas, homes):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    cadre = personas["cadre_a1"]
    listed(cadre, below_line=True)  # flags up to date
    with CaptureQueriesContext(connection) as q:
        listed(cadre, below_line=True)
    ids_sql = next(
        x["sql"]
        for x in q.captured_queries
        if 'ORDER BY "registry_householdflags"."household_no"' in x["sql"]
    )
    assert '"registry_householdflags"."village" = ' in ids_sql
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: make the index the only way
        cur.execute("EXPLAIN " + ids_sql.replace("%", "%%"))
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "hhflags_village_below" in plan
    with CaptureQueriesContext(connection) as q:
        listed(personas["township_a"], below_line=True)  # a wider actor: the county-wide path, as before
    assert not any('"registry_householdflags"."village"' in x["sql"] for x in q.captured_queries)


def test_the_village_stale_rows_are_the_households_stale_rows(personas, homes):
    """The rows a village list recomputes (read by the flags rows' own village) are those of the village's
    households: today's dirty ones apart, rows of another day, households without a row."""
    from fangpin.registry import flags

    a1 = f.VILLAGE_A1
    base = visible_households(actor=personas["cadre_a1"], on=TODAY)
    household_flags_rebuild(actor=system_actor("test"), on=TODAY)
    assert flags._stale_rows(base, on=TODAY, village=a1) == flags._stale_rows(base, on=TODAY) == ([], [])
    flags.household_flags_touch([homes[a1, "poor"].pk, homes[f.VILLAGE_A2, "poor"].pk])  # today's, dirty
    HouseholdFlags.objects.filter(household=homes[a1, "rich"]).update(checked_on=TODAY - dt.timedelta(days=1))
    fresh = Household.objects.bulk_create([Household(household_no=f"{a1}999001", village_id=a1)])[0]  # no row
    want = ([homes[a1, "poor"].pk], sorted([homes[a1, "rich"].pk, fresh.pk]))
    assert flags._stale_rows(base, on=TODAY) == want
    assert flags._stale_rows(base, on=TODAY, village=a1) == want
    assert listed(personas["cadre_a1"], below_line=True)[1] == 2  # and the list recomputes them
    assert flags._stale_rows(base, on=TODAY, village=a1) == ([], [])


def test_the_flags_count_is_used_for_a_village_actors_plain_flag_list_only(personas, homes):
    cadre, a1 = personas["cadre_a1"], f.VILLAGE_A1
    listed(cadre, below_line=True)  # flags up to date
    assert flag_list_count(cadre, HouseholdFilter(below_line=True)) == (2, False)
    assert flag_list_count(cadre, HouseholdFilter(below_line=True), cap=1) == (1, True)  # as bounded_count
    assert flag_list_count(cadre, HouseholdFilter(below_line=True, region=a1, sort="-household_no")) == (
        2,
        False,
    )
    # anything else is counted by the households' query
    for other in (
        HouseholdFilter(),
        HouseholdFilter(below_line=True, q="王建"),
        HouseholdFilter(below_line=True, household_type="脱贫户"),
        HouseholdFilter(below_line=True, monitoring="never"),
        HouseholdFilter(below_line=True, region=f.VILLAGE_A2),
    ):
        assert flag_list_count(cadre, other) is None, other
    for wider in ("township_a", "county_admin", "helper_a1"):
        assert flag_list_count(personas[wider], HouseholdFilter(below_line=True)) is None
