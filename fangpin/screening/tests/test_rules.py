from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.screening.engine import engine_open
from fangpin.screening.engine.dialects import DuckDBDialect, SparkDialect
from fangpin.screening.engine.rules import RuleSpec, compile_rule, compile_source, window_bounds
from fangpin.screening.models import ScreeningRule
from fangpin.screening.services.rules import E_RULE_INVALID, rule_specs, screening_rule_update


def test_windows():
    r = RuleSpec("X", "medical", "any_record", window="year_to_date")
    assert window_bounds(r, "2025-06") == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    r = RuleSpec("X", "medical", "any_record", window="months", window_months=3)
    assert window_bounds(r, "2025-02") == (dt.date(2024, 12, 1), dt.date(2025, 2, 28))


def test_dialects_differ_only_in_functions():
    r = RuleSpec("X", "medical", "max_above", {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}},
                 threshold=100)  # fmt: skip
    d, s = compile_rule(r, "2025-06", DuckDBDialect()), compile_rule(r, "2025-06", SparkDialect())
    assert "arg_max(m.record_key" in d and "max_by(m.record_key" in s
    assert d.replace("arg_max", "max_by") == s
    with pytest.raises(DomainError):  # injection through a column name is refused
        compile_rule(
            RuleSpec("X", "medical", "max_above", {"column": "x; DROP"}, threshold=1),
            "2025-06",
            DuckDBDialect(),
        )


def test_fused_query_equals_one_query_per_rule(tmp_path):
    persons = pl.DataFrame(
        {"person_id": [1, 2, 3], "household_id": [1, 1, 2], "id_number": ["a", "b", "c"],
         "birth_date": [dt.date(1980, 1, 1), dt.date(2014, 7, 1), dt.date(1990, 1, 1)],
         "is_exited": [True, True, False], "is_monitored": [False, False, True], "is_labourer": [True, False, True],
         "household_labourers": [1, 1, 1], "is_main_earner": [True, False, True], "disability_grade": [None, None, 1],
         "village_code": ["v"] * 3},
        schema_overrides={"disability_grade": pl.Int64},
    )  # fmt: skip
    persons.write_parquet(tmp_path / "p.parquet")
    src = pl.DataFrame(
        {"record_key": [1, 2, 3, 4], "id_number": ["a", "a", "c", "b"],
         "event_date": [dt.date(2025, 2, 1), dt.date(2025, 6, 1), dt.date(2025, 6, 2), dt.date(2025, 6, 3)],
         "visit_type": ["住院", "住院", "住院", "门诊"], "out_of_pocket": [3000.0, 2500.0, 7000.0, 20000.0]}
    )  # fmt: skip
    src.write_parquet(tmp_path / "m.parquet")
    rules = [
        RuleSpec("A", "medical", "sum_at_least", {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}},
                 window="year_to_date", threshold=5000, applies_to="exited"),
        RuleSpec("B", "medical", "max_above", {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}},
                 threshold=6000, applies_to="monitored"),
        RuleSpec("C", "medical", "any_record", {"where": {"visit_type": ["门诊"]}},
                 person_conditions=[{"kind": "age_between", "min_key": "lo", "max_key": "hi"}], values={"lo": 6, "hi": 15}),
    ]  # fmt: skip
    eng = engine_open("duckdb")
    eng.register_parquet("persons", [str(tmp_path / "p.parquet")])
    eng.register_parquet("s", [str(tmp_path / "m.parquet")])
    cols = ", ".join(f"p.{c} AS p_{c}" for c in ("household_id", "birth_date", "is_exited", "is_monitored"))
    eng.create_view(
        "matched_medical",
        f"SELECT s.*, p.person_id, TRUE AS _new, {cols} FROM s JOIN persons p USING (id_number)",
    )
    fused = eng.query(compile_source(rules, "2025-06", eng.dialect)).to_pylist()
    got = {
        (r.code, row["person_id"], row[f"v_{i}"])
        for row in fused
        for i, r in enumerate(rules)
        if row[f"hit_{i}"]
    }
    single = set()
    for r in rules:
        for row in eng.query(compile_rule(r, "2025-06", eng.dialect)).to_pylist():
            single.add((r.code, row["person_id"], row["v_0"]))
    assert got == single == {("A", 1, 5500.0), ("B", 3, 7000.0), ("C", 2, None)}


@pytest.mark.django_db
def test_seed_rules_resolve_their_parameters_and_admin_edits_are_versioned(personas):
    rules = list(ScreeningRule.objects.filter(active=True))
    assert len(rules) == 12
    specs, refs = rule_specs(rules, region_code="410506205201", year=2025)
    by = {s.code: s for s in specs}
    assert by["MED_EXITED_YTD_OOP"].threshold == 5000 and by["MED_STAY_OTHER"].threshold == 10000
    assert by["HOUSE_UNSAFE"].condition["values"] == ["C", "D"]
    assert by["EDU_DROPOUT"].values == {
        "screening.education.dropout_age_min": 6,
        "screening.education.dropout_age_max": 15,
    }
    assert all({"key", "id", "version", "value"} <= set(r) for r in refs)

    admin = personas["county_admin"]
    r = screening_rule_update(
        actor=admin, code="MED_STAY_OTHER", applies_to="not_monitored", reason="县里调整口径"
    )
    assert r.version == 2 and r.updated_by == admin
    ev = AuditEvent.objects.get(event_type="screening.rule_update")
    assert ev.data["changes"]["applies_to"] == ["others", "not_monitored"]
    with pytest.raises(DomainError) as e:
        screening_rule_update(actor=admin, code="MED_STAY_OTHER", condition={"column": "no_such_column"})
    assert e.value.code == E_RULE_INVALID
    with pytest.raises(PermissionDenied):
        screening_rule_update(actor=personas["cadre_a1"], code="MED_STAY_OTHER", active=False)


@pytest.mark.parametrize("count_apart", [False, True])
def test_month_query_gives_rules_facts_and_counts_in_one_pass(tmp_path, count_apart):
    """compile_month (what a run executes) = the single-rule queries' hits + the registry facts that
    differ + the rows matched by ID, in one query over the department rows joined to the registry; both
    plans (fused, and the count apart for a file bigger than the registry) give the same rows."""
    from fangpin.screening.engine.rules import compile_month
    from fangpin.screening.sources.base import FactMap

    persons = pl.DataFrame(
        {"person_id": [1, 2, 3], "household_id": [1, 1, 2], "id_number": ["a", "b", "c"],
         "is_exited": [True, True, False], "is_monitored": [False, False, True], "grade": [None, 2, 1]},
        schema_overrides={"grade": pl.Int64},
    )  # fmt: skip
    persons.write_parquet(tmp_path / "p.parquet")
    src = pl.DataFrame(
        {"record_key": [1, 2, 3, 4, 5, 6], "batch_id": [1, 1, 1, 1, 1, 2],
         "id_number": ["a", "a", "c", "zz", None, "b"], "id_status": ["ok", "ok", "ok", "ok", "missing", "ok"],
         "event_date": [dt.date(2025, 2, 1), dt.date(2025, 6, 1), dt.date(2025, 6, 2), dt.date(2025, 6, 3),
                        dt.date(2025, 6, 4), dt.date(2025, 6, 5)],
         "visit_type": ["住院", "住院", "住院", "住院", "住院", "门诊"],
         "out_of_pocket": [3000.0, 2500.0, 7000.0, 90000.0, 90000.0, 10.0], "grade": [3, 1, 1, 2, 2, 4]}
    )  # fmt: skip
    src.write_parquet(tmp_path / "m.parquet")
    rules = [
        RuleSpec("A", "medical", "sum_at_least", {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}},
                 window="year_to_date", threshold=5000, applies_to="exited"),
        RuleSpec("B", "medical", "max_above", {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}},
                 threshold=6000, applies_to="monitored"),
    ]  # fmt: skip
    grade = FactMap("person", "disability_grade", "grade", "grade")
    eng = engine_open("duckdb")
    eng.register_parquet("persons", [str(tmp_path / "p.parquet")])
    eng.register_parquet("s", [str(tmp_path / "m.parquet")])
    cols = ", ".join(f"p.{c} AS p_{c}" for c in ("household_id", "is_exited", "is_monitored", "grade"))
    eng.create_view(
        "matched_medical",
        f"SELECT s.*, p.person_id, TRUE AS _new, 'id' AS match_method, {cols} FROM s JOIN persons p USING (id_number)",
    )
    rows = eng.query(
        compile_month("medical", rules, [grade], "2025-06", eng.dialect, count_apart=count_apart)
    ).to_pylist()
    total = [r for r in rows if r["is_total"]]
    assert [t["matched_id"] for t in total] == [4]
    other = eng.query(
        compile_month("medical", rules, [grade], "2025-06", eng.dialect, count_apart=not count_apart)
    ).to_pylist()

    def plain(rs: list[dict]) -> list[tuple]:
        """What the run reads: a person row without matched_id, the total row's matched_id only."""
        return sorted(
            (("matched_id", int(r["matched_id"])),)
            if r["is_total"]
            else tuple((k, v) for k, v in r.items() if k != "matched_id")
            for r in rs
        )

    assert plain(rows) == plain(other)
    got = {(r.code, row["person_id"], row[f"v_{i}"]) for row in rows if not row["is_total"]
           for i, r in enumerate(rules) if row[f"hit_{i}"]}  # fmt: skip
    single = {
        (r.code, row["person_id"], row["v_0"])
        for r in rules
        for row in eng.query(compile_rule(r, "2025-06", eng.dialect)).to_pylist()
    }
    assert got == single == {("A", 1, 5500.0), ("B", 3, 7000.0)}
    # the latest record per person states the fact; only differing values come back (person 3 agrees)
    facts = {
        (row["person_id"], row["fv_0"], row["fr_0"], row["fk_0"])
        for row in rows
        if row["fx_0"] and not row["is_total"]
    }
    assert facts == {(1, "1", "", 2), (2, "4", "2", 6)}
    # facts only from the run month's batches
    rows = eng.query(
        compile_month(
            "medical", rules, [grade], "2025-06", eng.dialect, fact_batches=[2], count_apart=count_apart
        )
    ).to_pylist()
    assert {row["person_id"] for row in rows if row["fx_0"] and not row["is_total"]} == {2}


def test_each_new_record_is_screened_once_and_cumulative_rules_hit_when_the_new_records_cross(tmp_path):
    """rule_instances: record rules see the new records only (any month); a year's sum adds old and new
    records of each calendar year the new records fall in and hits only when the new ones cross it."""
    from fangpin.screening.engine.rules import compile_month, rule_instances

    persons = pl.DataFrame(
        {"person_id": [1, 2, 3], "household_id": [1, 2, 3], "id_number": ["a", "b", "c"],
         "is_exited": [True, True, False], "is_monitored": [False, False, False]}
    )  # fmt: skip
    persons.write_parquet(tmp_path / "p.parquet")
    # batch 1 was screened in an earlier run; batch 2 is new (a late file covering two years)
    src = pl.DataFrame(
        {"record_key": [1, 2, 3, 4, 5, 6], "batch_id": [1, 1, 2, 2, 2, 2],
         "id_number": ["a", "b", "a", "b", "c", "a"],
         "event_date": [dt.date(2025, 2, 1), dt.date(2025, 3, 1), dt.date(2025, 9, 1), dt.date(2025, 9, 2),
                        dt.date(2025, 1, 9), dt.date(2024, 12, 30)],
         "visit_type": ["住院"] * 6, "out_of_pocket": [3000.0, 5200.0, 2500.0, 100.0, 12000.0, 6000.0]}
    )  # fmt: skip
    src.write_parquet(tmp_path / "m.parquet")
    rules = [
        RuleSpec("A", "medical", "sum_at_least", {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}},
                 window="year_to_date", threshold=5000, applies_to="exited"),
        RuleSpec("C", "medical", "max_above", {"column": "out_of_pocket", "where": {"visit_type": ["住院"]}},
                 threshold=10000, applies_to="others"),
    ]  # fmt: skip
    inst = rule_instances(rules, {"medical": (dt.date(2024, 12, 30), dt.date(2025, 9, 2))})
    assert [(r.code, r.start, r.end, r.cumulative) for r in inst] == [
        ("A", dt.date(2024, 1, 1), dt.date(2024, 12, 31), True),
        ("A", dt.date(2025, 1, 1), dt.date(2025, 12, 31), True),
        ("C", dt.date(2024, 12, 30), dt.date(2025, 9, 2), False),
    ]
    eng = engine_open("duckdb")
    eng.register_parquet("persons", [str(tmp_path / "p.parquet")])
    eng.register_parquet("s", [str(tmp_path / "m.parquet")])
    cols = ", ".join(f"p.{c} AS p_{c}" for c in ("household_id", "is_exited", "is_monitored"))

    def hits(new_batches: str) -> set:
        eng.create_view(
            "matched_medical",
            f"SELECT s.*, p.person_id, s.batch_id IN ({new_batches}) AS _new, 'id' AS match_method, {cols} "
            f"FROM s JOIN persons p USING (id_number)",
        )
        rows = eng.query(compile_month("medical", inst, [], "2025-09", eng.dialect)).to_pylist()
        return {(r.code, r.start.year if r.cumulative else None, row["person_id"], row[f"v_{i}"])
                for row in rows if not row["is_total"] for i, r in enumerate(inst) if row[f"hit_{i}"]}  # fmt: skip

    # person 1: 3000 (old) + 2500 (new) crosses 5000 in 2025; 6000 alone in 2024; person 2 was already
    # over in March (5200, screened): 100 more is no new hit; person 3's stay of 12000 is new (January)
    assert hits("2") == {("A", 2025, 1, 5500.0), ("A", 2024, 1, 6000.0), ("C", None, 3, 12000.0)}
    assert hits("-1") == set()  # nothing new: nothing screened again


def test_small_departments_stacked_give_what_their_own_queries_give(tmp_path, monkeypatch):
    """run_month stacks the small departments into one query (their columns prefixed per department:
    disability's numeric ``grade`` and housing's lettered ``grade`` side by side); forcing every department
    onto its own query (``COUNT_APART_RATIO`` 0) gives the same hits, differing facts and counts."""
    from fangpin.screening.engine import pipeline
    from fangpin.screening.sources.base import FactMap

    persons = pl.DataFrame(
        {"person_id": [1, 2, 3, 4], "household_id": [10, 10, 20, 30],
         "join_key": ["k1", "k2", "k3", "k4"], "village_code": ["410506001001"] * 4,
         "birth_date": [dt.date(1960, 1, 1), dt.date(2012, 5, 1), dt.date(1980, 3, 3), dt.date(1990, 7, 7)],
         "is_exited": [True, False, True, False], "is_monitored": [False, True, False, False],
         "is_labourer": [True] * 4, "household_labourers": [2, 2, 1, 1], "is_main_earner": [True, False, True, True],
         "disability_grade": [None, 3, 1, None], "death_date": [None] * 4, "disability_category": [""] * 4,
         "house_grade": ["A", "B", "C", "B"], "dibao": ["未享受"] * 4, "tekun": ["不享受"] * 4,
         "out_of_school": [False] * 4},
        schema_overrides={"disability_grade": pl.Int64, "death_date": pl.Date},
    )  # fmt: skip
    # persons 5-8 (no department rows): a registry bigger than each department file, so both are small
    others = persons.with_columns(
        pl.col("person_id") + 4, pl.col("household_id") + 100, pl.col("join_key") + "x"
    )
    persons = pl.concat([persons, others])
    persons.write_parquet(tmp_path / "persons.parquet")
    june = [dt.date(2025, 6, d) for d in (3, 9, 12, 20, 28)]
    pl.DataFrame(
        {"record_key": [1, 2, 3, 4, 5], "batch_id": [7] * 5, "id_number": ["k1", "k2", "k3", "k9", None],
         "id_status": ["ok", "ok", "ok", "ok", "missing"], "event_date": june,
         "grade": [2, 1, 2, 1, 1], "category": ["4", "4", "2", "4", "4"]}
    ).write_parquet(tmp_path / "disability.parquet")  # fmt: skip
    pl.DataFrame(
        {"record_key": [1, 2, 3, 4], "batch_id": [8] * 4, "id_number": ["k1", "k3", "k4", "k4"],
         "id_status": ["ok"] * 4, "event_date": june[:4], "grade": ["D", "C", "B", "C"]}
    ).write_parquet(tmp_path / "housing.parquet")  # fmt: skip
    rules = [
        RuleSpec("DIS", "disability", "value_in", {"column": "grade", "values": [1, 2], "numeric": True},
                 person_conditions=[{"kind": "worse_than_registry", "column": "grade",
                                     "registry_column": "disability_grade"}]),
        RuleSpec("HOUSE", "housing", "value_in", {"column": "grade", "values": ["C", "D"]}),
    ]  # fmt: skip
    facts = {
        "disability": [FactMap("person", "disability_grade", "grade", "disability_grade")],
        "housing": [FactMap("household", "house_grade", "grade", "house_grade")],
    }

    def run() -> tuple:
        with engine_open("duckdb") as eng:
            res = pipeline.run_month(
                eng, month="2025-06", persons_path=str(tmp_path / "persons.parquet"), rules=rules, facts=facts,
                sources={k: [str(tmp_path / f"{k}.parquet")] for k in ("disability", "housing")},
            )  # fmt: skip
        hits = sorted(
            (h["rule_code"], h["person_id"], h["value"], h["record_key"], h["records"]) for h in res.hits
        )
        found = sorted((f["source"], f["person_id"], f["value"], f["registry_value"]) for f in res.facts)
        return hits, found, res.counts

    stacked = run()
    monkeypatch.setattr(pipeline, "COUNT_APART_RATIO", 0.0)
    assert run() == stacked
    hits, found, counts = stacked
    # person 2's grade 1 is worse than the registry's 3, person 3's 2 is not worse than 1; k9 is unknown
    assert [(c, p) for c, p, *_ in hits] == [("DIS", 1), ("DIS", 2), ("HOUSE", 1), ("HOUSE", 3), ("HOUSE", 4)]
    # the latest record states the fact: person 4's C (20 June) against the registry's B; person 3 agrees
    assert [f for f in found if f[0] == "housing"] == [("housing", 1, "D", "A"), ("housing", 4, "C", "B")]
    assert ("disability", 1, "2", "") in found
    assert counts["disability"]["matched_id"] == 3 and counts["housing"]["matched_id"] == 4
