"""The maintained snapshot: stored per region and business date with the registry's generation; opened it
gives the judgements a fresh export gives; any registry change makes it stale, and a stale one is never
used (rebuilt instead); the screen says which snapshot it used."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from fangpin.whatif.evaluate import evaluate
from fangpin.whatif.paramset import ParamSet
from fangpin.whatif.services import whatif_run
from fangpin.whatif.snapshot import snapshot_build
from fangpin.whatif.store import (
    registry_stamp,
    snapshot_maintained,
    snapshot_open,
    snapshot_path,
    snapshots_refresh,
)

from .helpers import ON, differences, whatif_rows

pytestmark = pytest.mark.django_db


def test_a_stored_snapshot_judges_as_a_fresh_export_and_goes_stale_on_any_change(
    county, personas, settings, tmp_path
):
    admin = personas["county_admin"]
    snap = snapshot_maintained(actor=admin, on=ON)
    path = snapshot_path(admin.scope_prefix, ON, snap.stamp)
    assert path.exists() and snap.stamp == registry_stamp() and snap.built_at
    opened = snapshot_open(admin.scope_prefix, ON)
    assert opened is not None and opened.stamp == snap.stamp
    fresh = snapshot_build(actor=admin, on=ON)
    a, b = whatif_rows(evaluate(opened, ParamSet())), whatif_rows(evaluate(fresh, ParamSet()))
    assert a and differences(a, b) == []
    settings_ = {"monitoring_line": "+10%", "gradual_exit_months": "3", "min_months": "12"}
    mine = whatif_run(actor=admin, on=ON, settings=settings_, snapshot=opened)
    theirs = whatif_run(actor=admin, on=ON, settings=settings_, snapshot=fresh)
    assert mine.changed == theirs.changed != [] and mine.rows == theirs.rows
    assert mine.snapshot["stamp"] == snap.stamp

    # an income record edited: the stored snapshot is stale, never opened again; the maintained one is rebuilt
    rec = county["active"].income_records.first()
    rec.wage = Decimal("5000")
    rec.save()
    assert registry_stamp() != snap.stamp
    assert snapshot_open(admin.scope_prefix, ON) is None
    # the refresh job rebuilds it in the scope of its builder; then it is current and left alone
    assert snapshots_refresh(on=ON) == [admin.scope_prefix]
    again = snapshot_open(admin.scope_prefix, ON)
    assert again is not None and again.stamp == registry_stamp() != snap.stamp
    assert snapshots_refresh(on=ON) == []
    hid = county["active"].pk
    assert evaluate(again, ParamSet()).at[hid, "per_capita"] == 5000.0
    assert evaluate(opened, ParamSet()).at[hid, "per_capita"] == 8000.0  # the old one, had it been used


def test_the_screen_and_the_command_name_the_snapshot(client, county, personas, capsys):
    client.force_login(personas["county_admin"])
    page = client.get(f"/stats/whatif/?income.monitoring_line=%2B10%25&on={ON}").content.decode()
    assert 'id="whatif-snapshot"' in page and f"业务日期 {ON}" in page and registry_stamp() in page
    call_command("whatif", "--build-snapshot", "--as", "county_admin", "--on", ON.isoformat())
    out = capsys.readouterr().out
    assert f"测算数据快照 {ON}" in out and registry_stamp() in out
