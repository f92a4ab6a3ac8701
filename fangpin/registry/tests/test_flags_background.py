"""The flags' background refresh (``registry.flags``): a committed change queues it (one job while one is
queued); while it is expected the browser's list does not recompute today's dirty rows on the request but
says how many households are being updated; with no job, or a late one, the list recomputes as before; the
export path always recomputes; and what the job leaves equals a full rebuild."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.cache import cache

from fangpin.accounts.actors import system_actor
from fangpin.core import clock
from fangpin.monitoring.household_search import HouseholdFilter, household_search, household_search_qs
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.registry import flags
from fangpin.registry.models import HouseholdFlags
from fangpin.registry.services.changes import do_income_record_save
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)
YEAR_2024 = {"period_start": "2024-01-01", "period_end": "2024-12-31"}
RICH = {**YEAR_2024, "components": {"wage": 60000}}


@pytest.fixture(autouse=True)
def _today():
    cache.delete_many([flags.PENDING_KEY, flags.BEAT_KEY])
    with clock.pinned_today(TODAY):
        yield
    cache.delete_many([flags.PENDING_KEY, flags.BEAT_KEY])


@pytest.fixture
def hh(db):
    """脱贫户 of three at 4,000 a head in 2024: under the 2025 line."""
    return poor_exited_household(f.VILLAGE_A1, per_capita=4000)


def snapshot() -> dict[int, tuple]:
    return {
        r.household_id: (r.below_line, r.per_capita, r.income_month, r.findings, r.finding_codes, r.dirty)
        for r in HouseholdFlags.objects.all()
    }


def below(actor, *, defer: bool) -> tuple[set[int], int]:
    qs, updating = household_search(
        actor=actor, f=HouseholdFilter(below_line=True), on=TODAY, defer_flags=defer
    )
    return set(qs.values_list("pk", flat=True)), updating


def test_a_committed_change_queues_the_refresh_which_brings_the_rows_up_to_date(
    personas, hh, monkeypatch, django_capture_on_commit_callbacks
):
    admin = personas["county_admin"]
    assert below(admin, defer=False) == ({hh.pk}, 0)
    calls = []
    real = flags.household_flags_refresh_dirty
    monkeypatch.setattr(flags, "household_flags_refresh_dirty", lambda *, on: calls.append(on) or real(on=on))
    # the change's transaction commits (its on_commit callbacks run; a transactional test cannot flush the
    # append-only audit table afterwards)
    from django.db import connection

    connection.run_on_commit.clear()  # the fixtures' writes count as committed (their queued refresh dropped)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        do_income_record_save(actor=admin, household=hh, payload=RICH, reason="核实")
    assert sum(cb is flags._enqueue_refresh for cb in callbacks) == 1  # once per transaction
    assert calls == [
        TODAY
    ]  # one job for the change's transaction (the tests' Huey runs it at once), for the business day
    row = HouseholdFlags.objects.get(household=hh)
    assert row.dirty is False and row.below_line is False and float(row.per_capita) == 20000.0
    assert below(admin, defer=True) == (set(), 0)


def test_one_job_while_one_is_queued(hh, monkeypatch):
    queued = []
    monkeypatch.setattr("fangpin.registry.tasks.household_flags_refresh_task", lambda: queued.append(1))
    flags._enqueue_refresh()
    flags._enqueue_refresh()  # a second touch before the job started: covered by the queued one
    assert len(queued) == 1
    cache.delete(flags.PENDING_KEY)  # the job starts (household_flags_refresh_dirty drops the mark first)
    flags._enqueue_refresh()
    assert len(queued) == 2


@pytest.mark.parametrize("who", ["county_admin", "cadre_a1"])  # cadre: the village path
def test_while_the_job_is_expected_the_list_says_how_many_households_are_being_updated(
    personas, hh, who, client
):
    admin, viewer = personas["county_admin"], personas[who]
    assert below(viewer, defer=False) == ({hh.pk}, 0)
    do_income_record_save(actor=admin, household=hh, payload=RICH, reason="核实")  # dirty, not recomputed
    cache.set(flags.PENDING_KEY, time.time(), 60)  # the job is queued
    # the list answers from the row as it was and says so; the row is left to the job
    assert below(viewer, defer=True) == ({hh.pk}, 1)
    assert HouseholdFlags.objects.get(household=hh).dirty is True
    client.force_login(viewer)
    page = client.get("/households/?below_line=1").content.decode()
    assert "1户数据更新中" in page and "结果可能暂不完整" in page
    # an export (and the API, saved lists) is exactly what is filtered: recomputed on the request
    assert set(household_search_qs(actor=viewer, f=HouseholdFilter(below_line=True), on=TODAY)) == set()
    assert "数据更新中" not in client.get("/households/?below_line=1").content.decode()


@pytest.mark.parametrize("who", ["county_admin", "cadre_a1"])  # cadre: the village path
def test_a_late_job_or_none_and_the_list_recomputes_itself(personas, hh, who):
    admin, viewer = personas["county_admin"], personas[who]
    below(viewer, defer=False)
    do_income_record_save(actor=admin, household=hh, payload=RICH, reason="核实")
    cache.set(flags.PENDING_KEY, time.time() - flags.JOB_LATE_SECONDS - 1, 600)  # queued, never started
    assert below(viewer, defer=True) == (set(), 0)
    do_income_record_save(
        actor=admin, household=hh, payload={**YEAR_2024, "components": {"wage": 9000}}, reason="更正"
    )
    cache.delete(flags.PENDING_KEY)  # no job at all (no queue, or the change's commit queued nothing)
    assert below(viewer, defer=True) == ({hh.pk}, 0)


@pytest.mark.parametrize("who", ["county_admin", "cadre_a1"])  # cadre: the village path
def test_a_running_job_that_beats_is_expected(personas, hh, who):
    admin, viewer = personas["county_admin"], personas[who]
    below(viewer, defer=False)
    do_income_record_save(actor=admin, household=hh, payload=RICH, reason="核实")
    cache.set(flags.BEAT_KEY, time.time(), 60)  # a long job (a region after a new parameter) is running
    assert below(viewer, defer=True) == ({hh.pk}, 1)


@pytest.mark.parametrize("who", ["county_admin", "cadre_a1"])  # cadre: the village path
def test_rows_of_another_day_are_recomputed_on_the_request_even_while_the_job_is_expected(personas, hh, who):
    viewer = personas[who]
    flags.household_flags_rebuild(actor=system_actor("test"), on=TODAY - dt.timedelta(days=1))
    cache.set(flags.PENDING_KEY, time.time(), 60)
    assert below(viewer, defer=True) == ({hh.pk}, 0)  # yesterday's row is not the job's: computed now
    assert HouseholdFlags.objects.get(household=hh).checked_on == TODAY


def test_what_the_job_leaves_equals_a_full_rebuild(personas, hh):
    admin = personas["county_admin"]
    bad = f.household(f.VILLAGE_A1, phone="12345")
    other = poor_exited_household(f.VILLAGE_B1, per_capita=3000)
    flags.household_flags_rebuild(actor=system_actor("test"), on=TODAY)
    do_income_record_save(actor=admin, household=hh, payload=RICH, reason="核实")
    bad.phone = "13912345678"
    bad.save()
    do_income_record_save(
        actor=admin, household=other, payload={**YEAR_2024, "components": {"wage": 90000}}, reason="核实"
    )
    assert {k for k, v in snapshot().items() if v[-1]} == {hh.pk, bad.pk, other.pk}
    cache.set(flags.PENDING_KEY, time.time(), 60)
    assert flags.household_flags_refresh_dirty(on=TODAY) == 3
    assert cache.get(flags.PENDING_KEY) is None and cache.get(flags.BEAT_KEY) is None
    after_job = snapshot()
    assert not any(v[-1] for v in after_job.values())
    flags.household_flags_rebuild(actor=system_actor("test"), on=TODAY)
    assert snapshot() == after_job


def test_the_cli_runs_the_background_refresh(personas, hh, capsys):
    from django.core.management import call_command

    flags.household_flags_rebuild(actor=system_actor("test"), on=TODAY)
    do_income_record_save(actor=personas["county_admin"], household=hh, payload=RICH, reason="核实")
    call_command("flags_rebuild", "--dirty", "--on", TODAY.isoformat())
    assert "已更新1户" in capsys.readouterr().out
    row = HouseholdFlags.objects.get(household=hh)
    assert row.dirty is False and row.below_line is False


def test_outside_immediate_mode_the_job_is_queued_a_few_seconds_ahead_once_for_a_burst(hh, monkeypatch):
    """With a real consumer, a burst of commits queues one job, REFRESH_DELAY_SECONDS ahead (one run of the
    rule suite for the burst), not one run per commit."""
    from huey.contrib.djhuey import HUEY

    calls = []

    class Task:
        def __call__(self):
            calls.append("now")

        def schedule(self, *, delay):
            calls.append(("later", delay))

    monkeypatch.setattr("fangpin.registry.tasks.household_flags_refresh_task", Task())
    monkeypatch.setattr(HUEY, "immediate", False)
    for _ in range(3):
        flags._enqueue_refresh()
    assert calls == [("later", flags.REFRESH_DELAY_SECONDS)] and flags.REFRESH_DELAY_SECONDS > 0
    assert flags.refresh_job_expected()  # the lists meanwhile say that households are being updated
