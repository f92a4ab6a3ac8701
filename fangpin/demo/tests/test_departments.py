"""The demo county's department files: deterministic, story-consistent, noisy IDs, uploadable by the
setup's department officers with ``fangpin dept_upload``."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from fangpin.accounts.models import User
from fangpin.demo.departments import KIND_USERS, demo_department_files
from fangpin.demo.generator.income import NOTE_NEW_ILLNESS, NOTE_NEW_RISK
from fangpin.demo.services import setup as setup_service
from fangpin.demo.services.load import demo_county_generate
from fangpin.registry.models import IncomeRecord
from fangpin.screening.models import DeptBatch
from fangpin.testing import factories as f

SLICE = [f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1]


@pytest.mark.django_db
def test_department_files_follow_the_demo_story_and_upload(personas, tmp_path, monkeypatch):
    from fangpin.regions.models import Region

    demo_county_generate(
        actor=personas["county_admin"],
        county="410506",
        seed=3,
        as_of=dt.date(2026, 6, 15),
        villages=SLICE,
        households_per_village=60,
    )
    monkeypatch.setattr(setup_service, "load_regions", lambda **kw: Region.objects.count())
    call_command("setup", stdout=StringIO())  # the demo users, one officer per department
    out = StringIO()
    call_command("demo_department_files", "--month", "2026-06", "--out", str(tmp_path / "a"), stdout=out)
    files = sorted(p.name for p in (tmp_path / "a").glob("*.csv"))
    assert files == sorted(f"{k}_2026-06.csv" for k in KIND_USERS)
    assert "--as dept_renshe" in out.getvalue()
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    events = manifest["events"]
    # every household the generator sent to hospital last year is in hospital again in the as_of month
    ill = set(
        IncomeRecord.objects.filter(period_start__year=2025, note=NOTE_NEW_ILLNESS).values_list(
            "household_id", flat=True
        )
    )
    assert ill and {e["household_id"] for e in events if e["story"] == "hospital_again"} == ill - set(
        IncomeRecord.objects.filter(household__monitoring_objects__isnull=False).values_list(
            "household_id", flat=True
        )
    )
    risk = set(
        IncomeRecord.objects.filter(period_start__year=2026, note=NOTE_NEW_RISK).values_list(
            "household_id", flat=True
        )
    )
    assert {e["household_id"] for e in events if e["story"] == "unemployed"} <= risk
    assert all(
        dt.date(2026, 6, 1) <= dt.date.fromisoformat(e["date"]) <= dt.date(2026, 6, 30) for e in events
    )
    # deterministic for (county, month, seed); another seed gives other files
    demo_department_files(county="410506", month="2026-06", out=tmp_path / "b", seed=0)
    demo_department_files(county="410506", month="2026-06", out=tmp_path / "c", seed=1)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "medical_2026-06.csv").read_bytes() != (
        tmp_path / "c" / "medical_2026-06.csv"
    ).read_bytes()
    # events are dated up to --until
    short = demo_department_files(
        county="410506", month="2026-06", out=tmp_path / "d", until=dt.date(2026, 6, 9)
    )
    assert max(e.date for e in short.events) <= "2026-06-09"
    # the officers upload them: every row parses, linkage is needed for some (noisy IDs)
    for kind, user in KIND_USERS.items():
        path = tmp_path / "a" / f"{kind}_2026-06.csv"
        call_command("dept_upload", kind, str(path), "--period", "2026-06", "--as", user, stdout=StringIO())
        b = DeptBatch.objects.get(kind=kind, period="2026-06")
        assert b.rows_rejected == 0 and b.rows_ok == manifest["rows"][kind]
        assert b.uploaded_by == User.objects.get(username=user)
    noisy = [e for e in events if e["variant"] in ("missing", "mistyped", "scientific", "homophone")]
    for kind in ("medical", "hrss"):
        assert DeptBatch.objects.get(kind=kind).rows_id_problem >= sum(1 for e in noisy if e["kind"] == kind)
