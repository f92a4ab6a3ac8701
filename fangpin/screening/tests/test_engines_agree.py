"""One code path, two engines: the same month on DuckDB and on Spark gives identical hits."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.registry.models import Person
from fangpin.screening.engine import pipeline
from fangpin.screening.models import RunStatus, ScreeningHit
from fangpin.screening.registry_export import export_registry_persons
from fangpin.screening.services.runs import screening_run_start
from fangpin.screening.services.uploads import dept_batch_upload
from fangpin.screening.sources import SOURCES
from fangpin.screening.testing.depts import generate_department_files, registry_slice

UPLOAD_ON = dt.date(2026, 12, 1)  # the business date of the uploads
RUN_ON = dt.date(2025, 6, 30)  # the runs' business date: the end of the screened month


@pytest.mark.spark
@pytest.mark.django_db
def test_spark_and_duckdb_find_the_same_leads(tmp_path, personas, officer, monitored, monkeypatch):
    registry_slice(households=45)
    hh = sorted(set(Person.objects.values_list("household_id", flat=True)))
    monitored.update(hh[1::6])
    export_registry_persons(tmp_path / "p.parquet", on=RUN_ON)
    gen = generate_department_files(tmp_path / "p.parquet", tmp_path / "f", month="2025-06")
    for (kind, period), path in gen.files.items():
        dept_batch_upload(
            actor=officer(SOURCES[kind].departments[0]), kind=kind, path=path, period=period, on=UPLOAD_ON
        )
    admin = personas["county_admin"]
    # record_facts=False: the first run must not change the registry the second run compares with
    duck = screening_run_start(actor=admin, month="2025-06", engine="duckdb", record_facts=False, on=RUN_ON)
    # DuckDB runs the fused plan (files smaller than the registry), Spark the plan of a file bigger than
    # the registry (every department's count apart, rules on the pre-filtered rows): same hits and counts
    monkeypatch.setattr(pipeline, "COUNT_APART_RATIO", 0.0)
    spark = screening_run_start(actor=admin, month="2025-06", engine="spark", record_facts=False, on=RUN_ON)
    duck.refresh_from_db()
    spark.refresh_from_db()
    assert duck.status == spark.status == RunStatus.DONE, spark.error

    def hits(run):
        return set(
            ScreeningHit.objects.filter(run=run).values_list(
                "rule_code", "person_id", "value", "match_method"
            )
        )

    assert hits(spark) == hits(duck)
    assert {(c, p) for c, p, _, _ in hits(spark)} == gen.expected
    assert spark.counts["departments"] == duck.counts["departments"]  # incl. facts_differing per department
    assert duck.counts["facts"]["differing"] > 0
    assert (
        spark.counts["consent_missing_per_rule"]
        == duck.counts["consent_missing_per_rule"]
        == {"ASSET_MONITORED": 1}
    )
