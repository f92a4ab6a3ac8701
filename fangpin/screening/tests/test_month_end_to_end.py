"""Done means: on a registry slice with generated department files carrying planted changes, a run finds
every planted change and nothing else; IDs in every shape are matched; leads reach monitoring."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fangpin.registry.models import Person
from fangpin.screening.models import BatchIssue, RunStatus, ScreeningHit
from fangpin.screening.registry_export import export_registry_persons
from fangpin.screening.services.runs import screening_run_start
from fangpin.screening.services.uploads import dept_batch_upload
from fangpin.screening.sources import SOURCES
from fangpin.screening.testing.depts import generate_department_files, registry_slice
from fangpin.trust.services.consent import consent_record

UPLOAD_ON = dt.date(2026, 12, 1)  # the business date of the uploads
RUN_ON = dt.date(2025, 6, 30)  # the runs' business date: the end of the screened month

MONTH = "2025-06"


def _setup(tmp_path: Path, personas, officer, monitored):
    registry_slice(households=45)
    hh_ids = sorted(set(Person.objects.values_list("household_id", flat=True)))
    monitored.update(hh_ids[1::6])  # some households of both types are monitoring objects
    export_registry_persons(tmp_path / "persons.parquet", on=RUN_ON)
    gen = generate_department_files(tmp_path / "persons.parquet", tmp_path / "files", month=MONTH)
    for (kind, period), path in sorted(gen.files.items()):
        dept_batch_upload(
            actor=officer(SOURCES[kind].departments[0]), kind=kind, path=path, period=period, on=UPLOAD_ON
        )
    return gen


@pytest.mark.django_db
def test_run_finds_every_planted_change_and_nothing_else(tmp_path, personas, officer, monitored):
    gen = _setup(tmp_path, personas, officer, monitored)
    run = screening_run_start(actor=personas["county_admin"], month=MONTH, on=RUN_ON)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    found = set(ScreeningHit.objects.filter(run=run).values_list("rule_code", "person_id"))
    assert found == gen.expected
    # every seed rule was exercised by at least one planted change
    assert {p.rule for p in gen.planted} == set(run.counts["leads_per_rule"])

    hits = {(h.rule_code, h.person_id): h for h in ScreeningHit.objects.filter(run=run)}
    by_variant = {p.id_variant: hits[(p.rule, p.person_id)] for p in gen.planted}
    for variant in ("missing", "homophone", "scientific", "mistyped"):
        assert by_variant[variant].match_method == "linkage", variant
        assert by_variant[variant].match_probability >= 0.9  # screening.linkage.accept_probability
    for variant in ("id15", "fullwidth", "disability_cert", "plain"):
        assert by_variant[variant].match_method == "id", variant

    med = run.counts["departments"]["medical"]
    assert med["rows_read"] == med["matched_id"] + med["matched_linkage"] + med["unmatched"]
    assert med["matched_linkage"] == 4 and med["unmatched"] == 15  # the people outside the registry
    ytd = hits[next((p.rule, p.person_id) for p in gen.planted if p.id_variant == "id15")]
    assert ytd.value == pytest.approx(5300.0) and ytd.evidence["records"] == 2
    assert ytd.evidence["param"]["key"] == "screening.medical.exited_annual_oop"
    assert ytd.evidence["param"]["value"] == 5000
    assert {r["key"] for r in run.params} >= {"screening.medical.exited_annual_oop", "housing.unsafe_grades"}
    assert run.timings["rules_all"] > 0 and run.ruleset_version


@pytest.mark.django_db
def test_leads_are_pushed_to_monitoring_and_outcomes_come_back(tmp_path, personas, officer, monitored):
    from fangpin.monitoring.models import Lead
    from fangpin.monitoring.services.leads import lead_close
    from fangpin.screening.selectors import hit_rates
    from fangpin.screening.services.reviews import screening_outcomes_sync

    gen = _setup(tmp_path, personas, officer, monitored)
    # the asset comparison needs the household's 承诺授权书 (test_facts_consent covers the flagged case)
    asset = next(p for p in gen.planted if p.rule == "ASSET_MONITORED")
    consent_record(
        actor=personas["county_admin"], household_id=Person.objects.get(pk=asset.person_id).household_id,
        signed_on=dt.date(2025, 1, 5), signed_by_name="户主", scope=["assets"], paper_holder="村委会档案柜",
    )  # fmt: skip
    run = screening_run_start(actor=personas["county_admin"], month=MONTH, on=RUN_ON)
    hits = ScreeningHit.objects.filter(run=run)
    assert hits.count() == len(gen.expected)
    run.refresh_from_db()
    assert run.counts["consent_missing_per_rule"] == {"ASSET_MONITORED": 0}
    assert all(h.lead_result == "submitted" and h.lead_id for h in hits)
    leads = Lead.objects.filter(pk__in=hits.values("lead_id"))
    assert set(leads.values_list("household_id", flat=True)) == set(
        hits.values_list("household_id", flat=True)
    )
    source_refs = set(
        Lead.objects.filter(pk__in=hits.values("lead_id")).values_list("sources__source_ref", flat=True)
    )
    assert f"screening_run:{run.pk}:rule:HOUSE_UNSAFE" in source_refs

    h = hits.get(rule_code="HOUSE_UNSAFE")
    lead = Lead.objects.get(pk=h.lead_id)
    lead_close(
        actor=personas["county_admin"],
        lead=lead,
        outcome="not_a_risk",
        reason="已核实房屋已修缮",
        on=lead.opened_on,
    )
    assert screening_outcomes_sync()["updated_hits"] >= 1
    rates = hit_rates(actor=personas["county_admin"])
    row = next(r for r in rates["by_rule"] if r["rule_code"] == "HOUSE_UNSAFE")
    assert row["closed"] == 1 and row["not_a_risk"] == 1 and row["hit_rate"] == 0.0
    # a village cadre sees only hits of their own village
    cadre = personas["cadre_a1"]
    assert all(x["source"] in SOURCES for x in hit_rates(actor=cadre)["by_department"])
    from fangpin.screening.selectors import hit_list

    assert all(x.household.village_id == "410506205201" for x in hit_list(actor=cadre))


@pytest.mark.django_db
def test_excel_mangled_id_is_reported_not_guessed(tmp_path, personas, officer, monitored):
    _setup(tmp_path, personas, officer, monitored)
    issue = BatchIssue.objects.get(code="id_scientific")
    assert issue.severity == BatchIssue.WARNING and "科学计数法" in issue.message
    assert "E+" in issue.value


@pytest.mark.django_db
def test_batch_files_hold_no_clear_id_at_rest(tmp_path, personas, officer, monitored):
    """Issue #17: no full ID number in a department batch file or its linkage side file (kept 400 days),
    read as an attacker would (every column of every file, decoded); screening on them still finds every
    planted change (the test above) and the revealed file gives the IDs back."""
    import re

    import pyarrow as pa
    import pyarrow.parquet as pq

    from fangpin.screening.engine.store import link_path
    from fangpin.screening.models import DeptBatch
    from fangpin.screening.protect import is_protected, read_revealed
    from fangpin.screening.services.uploads import batch_abspath

    _setup(tmp_path, personas, officer, monitored)
    registry_ids = {p for p in Person.objects.values_list("id_number", flat=True) if p}
    pattern = re.compile(r"(?<![0-9A-Za-z_-])(\d{17}[\dXx]|\d{15}|1[3-9]\d{9})(?![0-9A-Za-z_-])")
    batches = list(DeptBatch.objects.all())
    assert len(batches) >= 5
    clear_after_reveal = 0
    for b in batches:
        for path in (batch_abspath(b), link_path(batch_abspath(b))):
            assert is_protected(path), path
            table = pq.read_table(path)
            # every text column (integers such as row_hash have 18 digits too and are no ID)
            # (the blind index is 32 hex characters, which may hold a run of digits: checked apart)
            bidx = [v for v in table.column("id_number").to_pylist() if v is not None]
            assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in bidx)
            text = "\n".join(
                str(v)
                for name, col in zip(table.column_names, table.columns, strict=True)
                if name != "id_number"
                and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type))
                for v in col.to_pylist()
            )
            found = pattern.findall(text)
            assert not found, (path, found[:3])
            assert not any(i in text for i in registry_ids)
            # the raw bytes too, where a digest's run of 18 digits is no ID (1 in ~300 digests has one)
            raw = Path(path).read_bytes()
            digests = [v.encode() for v in bidx]
            runs = [m.group() for m in re.finditer(rb"\d{17}[\dX]", raw)]
            assert not [r for r in runs if not any(r in h for h in digests)], path
        revealed = read_revealed(batch_abspath(b))
        clear_after_reveal += sum(1 for v in revealed["id_number"].to_list() if v in registry_ids)
    assert clear_after_reveal > 0  # the files are not empty of IDs: they are protected


@pytest.mark.django_db
def test_index_key_rotation_rewrites_batch_files_and_screening_still_matches(
    tmp_path, personas, officer, monitored
):
    """Item 3: after ``encryption_rotate`` with a new index key the batch files carry digests of the new
    key (and keyed row hashes), and a run finds every planted change as before."""
    import os

    from django.test import override_settings

    from fangpin.accounts.actors import system_actor
    from fangpin.core import crypto
    from fangpin.core.rotation import encryption_rotate, index_key_counts
    from fangpin.screening.models import DeptBatch
    from fangpin.screening.protect import file_index_key, read_revealed
    from fangpin.screening.services.uploads import batch_abspath

    gen = _setup(tmp_path, personas, officer, monitored)
    batches = list(DeptBatch.objects.order_by("pk"))
    before = {b.pk: read_revealed(batch_abspath(b)) for b in batches}
    assert {file_index_key(batch_abspath(b)) for b in batches} == {crypto.LEGACY_INDEX_ID}
    keys = {"i2": os.urandom(32)}
    with override_settings(
        FANGPIN_INDEX_KEYS={**keys, "0": crypto.dev_key("index", 32)}, FANGPIN_INDEX_KEY_ID="i2"
    ):
        res = encryption_rotate(actor=system_actor("test"))
        assert res.files == {"screening.DeptBatch files": len(batches)}
        assert index_key_counts().get(crypto.LEGACY_INDEX_ID, 0) == 0
    with override_settings(FANGPIN_INDEX_KEYS=keys, FANGPIN_INDEX_KEY_ID="i2"):  # the old key dropped
        for b in batches:
            assert file_index_key(batch_abspath(b)) == "i2"
            after = read_revealed(batch_abspath(b))
            assert after.drop("row_hash").equals(before[b.pk].drop("row_hash"))  # same content
        run = screening_run_start(actor=personas["county_admin"], month=MONTH, on=RUN_ON)
        run.refresh_from_db()
        assert run.status == RunStatus.DONE, run.error
        assert set(ScreeningHit.objects.filter(run=run).values_list("rule_code", "person_id")) == gen.expected
