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
