"""The generator without a database: deterministic, believable, sized like 龙安区, Parquet with
bounded memory."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest

from fangpin.core.ids import validate_id_number
from fangpin.demo.generator import county_plan, generate_parquet, iter_villages, rural_villages_from_csv
from fangpin.demo.generator.families import age_on
from fangpin.demo.generator.names import name_gender
from fangpin.demo.generator.params import gen_params_from_defaults
from fangpin.registry.checks import codes as C
from fangpin.registry.choices import SCHOOL_STAGE_AGES, school_stage

AS_OF = dt.date(2026, 6, 15)
PARAMS = gen_params_from_defaults("410506", AS_OF)
VILLAGES = rural_villages_from_csv("410506")


def _gen(codes: list[str], seed: int = 0, **kw):
    specs = [s for s in county_plan("410506", seed=seed, villages=VILLAGES) if s.code in codes]
    return list(iter_villages(specs, lambda _c: PARAMS, seed=seed, **kw))


def _planted(vs, *codes: str) -> set[str]:
    return {d["person_no"] for v in vs for d in v.defects if d["code"] in codes}


@pytest.fixture(scope="module")
def sample():
    """Twelve villages of 龙安区, seed 0."""
    return _gen([v[0] for v in VILLAGES[20:32]])


def _rows(vs):
    return [
        (v.village_code, v.households, v.persons, v.incomes, v.changes, v.monitoring, v.defects) for v in vs
    ]


def test_same_seed_same_output_and_independent_of_other_villages(sample):
    codes = [v.village_code for v in sample]
    assert _rows(_gen(codes)) == _rows(sample)
    # a village alone is generated exactly as within the county (IDs aside: they are a county counter)
    alone = _gen([codes[5]])[0]
    strip = ("id_number", "disability_cert_no", "birth_date")

    def cmp(v):
        return [{k: x[k] for k in x if k not in strip} for x in v.persons]

    assert cmp(alone) == cmp(sample[5])
    assert alone.incomes == sample[5].incomes
    assert _rows(_gen(codes[:2], seed=1)) != _rows(sample[:2])


def test_ids_valid_unique_and_agree_with_birth_date_and_gender(sample):
    skip = _planted(sample, C.ID_MISMATCH, C.ID_DUPLICATE)
    people = [x for v in sample for x in v.persons if x["person_no"] not in skip]
    assert len({x["id_number"] for x in people}) == len(people)
    for x in people:
        chk = validate_id_number(x["id_number"], on=AS_OF)
        assert chk.ok, (x["id_number"], chk.errors)
        assert x["id_number"].startswith("410506")
        assert chk.birth_date == x["birth_date"] and chk.gender == x["gender"]
        if x["disability_category"]:
            assert x["id_type"] == "残疾人证" and x["disability_cert_no"][:18] == x["id_number"]


def test_names_have_the_right_gender_and_are_mostly_three_characters(sample):
    people = [x for v in sample for x in v.persons]
    assert all(name_gender(x["name"]) == x["gender"] for x in people)
    lengths = Counter(len(x["name"]) for x in people)
    assert lengths[3] > 0.55 * len(people) and lengths[2] > 0.1 * len(people)


def test_family_structure_is_plausible(sample):
    bad_spouse = _planted(sample, C.SPOUSE_GENDER, C.ID_DUPLICATE, C.ID_MISMATCH)
    for v in sample:
        by_hh = defaultdict(list)
        for x in v.persons:
            by_hh[x["household_no"]].append(x)
        for hh in v.households:
            members = by_hh[hh["household_no"]]
            head = members[0]
            assert head["relation"] == "户主" and head["is_member"]
            assert sum(1 for x in members if x["relation"] == "户主") == 1
            h_age = age_on(head["birth_date"], AS_OF)
            for x in members:
                a = age_on(x["birth_date"], AS_OF)
                if x["person_no"] in bad_spouse:
                    continue
                if x["relation"] == "配偶":
                    assert x["gender"] != head["gender"]
                if x["relation"] in ("之子", "之女"):
                    assert 18 <= h_age - a <= 45, (h_age, a)
                if x["relation"] in ("之孙子", "之孙女"):
                    assert h_age - a >= 36
                if x["relation"] in ("之父", "之母") and x["is_member"]:
                    assert a - h_age >= 18


def test_person_facts_are_consistent_except_planted(sample):
    people = [x for v in sample for x in v.persons if x["is_member"]]
    wrong_school = _planted(sample, C.AGE_SCHOOL, C.ID_MISMATCH, C.ID_DUPLICATE)
    wrong_ins = _planted(sample, C.MED_INSURANCE, C.ID_DUPLICATE)
    wrong_labour = _planted(sample, C.LABOUR_CHILD, C.LABOUR_STUDENT, C.ID_DUPLICATE)
    for x in people:
        a = age_on(x["birth_date"], AS_OF)
        if x["school_status"] and x["person_no"] not in wrong_school:
            lo, hi = SCHOOL_STAGE_AGES[school_stage(x["school_status"])]
            assert lo <= a <= hi, (x["school_status"], a)
        if x["person_no"] not in wrong_ins:
            assert x["medical_resident"] != x["medical_employee"]
        if (a < 16 or x["school_status"] not in ("", "学龄前儿童")) and x["person_no"] not in wrong_labour:
            assert x["labour_skill"] == "无劳动力"
        assert not (x["dibao"] != "未享受" and x["tekun"] != "不享受") or x["person_no"] in _planted(
            sample, C.DIBAO_TEKUN
        )


def test_income_around_the_line_and_monitoring_objects(sample):
    last = AS_OF.year - 1
    line = float(PARAMS.line(last))
    monitored = {m["household_no"]: m for v in sample for m in v.monitoring}
    under = _planted(sample, C.EXITED_UNDER_LINE)
    members = Counter(x["household_no"] for v in sample for x in v.persons if x["is_member"])
    ratios = []
    for v in sample:
        for r in v.incomes:
            if r["period_start"].year != last:
                continue
            net = float(
                r["wage"] + r["production_business"] + r["property_income"] + r["insurance_payout"]
            ) - float(r["production_expense"])
            net += sum(float(r[k]) for k in r if k.startswith("transfer_"))
            ratios.append(net / members[r["household_no"]] / line)
            if r["household_no"] not in monitored and r["household_no"] not in {
                d["household_no"] for d in v.defects
            }:
                assert ratios[-1] >= 1.0
    ratios.sort()
    assert 1.3 < ratios[len(ratios) // 2] < 3.0  # most households well above the line
    assert sum(1 for r in ratios if r < 1) >= 1  # and a tail below it
    for m in monitored.values():
        assert 1 <= len(m["risk_types"]) <= 3
        assert set(m["risk_types"]) <= set(PARAMS.risk_types)
        if m["eliminated_on"]:
            assert m["eliminated_on"] >= m["identified_on"] + dt.timedelta(days=180)
            assert m["elimination_method"] in ("帮扶消除", "自然消除")
    assert under is not None


def test_longan_full_size_matches_the_seed():
    """龙安区 at scale 1.0, seed 0: 4,226 脱贫户 / ~10,588 persons (seed 000), plus ~1.5% 一般农户."""
    exited_households = exited_persons = ordinary = 0
    defects = 0
    specs = county_plan("410506", seed=0, villages=VILLAGES)
    for v in iter_villages(specs, lambda _c: PARAMS, seed=0):
        exited = {h["household_no"] for h in v.households if h["household_type"] == "脱贫户"}
        exited_households += len(exited)
        ordinary += len(v.households) - len(exited)
        exited_persons += sum(1 for x in v.persons if x["is_member"] and x["household_no"] in exited)
        defects += len(v.defects)
    assert exited_households == 4226
    assert abs(exited_persons - 10588) / 10588 < 0.03
    assert 0 < ordinary < 0.03 * exited_households
    assert 0.01 < defects / exited_persons < 0.2


def test_parquet_streams_a_county_in_chunks(tmp_path):
    counts = generate_parquet("410506", persons=3000, out=tmp_path, seed=0, as_of=AS_OF, chunk_rows=500)
    persons = pq.read_table(tmp_path / "persons")
    assert persons.num_rows == counts["persons"] and 2800 < counts["persons"] < 3300
    assert len(set(persons.column("id_number").to_pylist())) == persons.num_rows
    # chunked: several row groups per file, so memory holds one chunk, not the whole county
    assert pq.ParquetFile(tmp_path / "persons" / "410506.parquet").num_row_groups >= 4
    incomes = pq.read_table(tmp_path / "incomes")
    assert incomes.num_rows == counts["households"] * 6  # 2021-2025 and 2026-01..05
    again = tmp_path / "again"
    generate_parquet("410506", persons=3000, out=again, seed=0, as_of=AS_OF, chunk_rows=500)
    assert pq.read_table(again / "persons").equals(persons)


def test_parquet_same_seed_same_tables_whatever_the_workers(tmp_path):
    """Determinism by seed for every table of the Parquet path, one process or two (a county's files
    do not depend on ``workers``), and another seed gives other data."""
    tables = ("households", "persons", "incomes", "member_changes", "monitoring", "defects")
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    kw = {"persons": 2500, "as_of": AS_OF, "chunk_rows": 400}
    counts = generate_parquet("4105", out=one, seed=3, workers=1, **kw)
    assert generate_parquet("4105", out=two, seed=3, workers=2, **kw) == counts
    files = sorted(p.name for p in (one / "persons").iterdir())
    assert len(files) >= 5 and files == sorted(p.name for p in (two / "persons").iterdir())
    for t in tables:
        assert counts[t] > 0, t
        for f in files:
            assert pq.read_table(one / t / f).equals(pq.read_table(two / t / f)), (t, f)
    generate_parquet("4105", out=other, seed=4, workers=1, **kw)
    assert not pq.read_table(other / "persons").equals(pq.read_table(one / "persons"))
    assert not pq.read_table(other / "incomes").equals(pq.read_table(one / "incomes"))


def test_parquet_progress_reports_each_county_once_with_its_rows_and_worker_memory(tmp_path):
    """generate_parquet(progress=) is called once per county as its files close: its rows add up to the
    totals, the files hold them, and the worker's peak RSS is given (the bench's long-run figures)."""
    calls = []
    counts = generate_parquet(
        "4105", persons=2500, out=tmp_path, seed=3, as_of=AS_OF, workers=2, chunk_rows=400,
        progress=lambda county, c, rss, done, total: calls.append((county, c, rss, done, total)),
    )  # fmt: skip
    files = sorted(f.stem for f in (tmp_path / "persons").iterdir())
    assert sorted(c[0] for c in calls) == files and len(files) >= 5
    assert [c[3] for c in calls] == list(range(1, len(files) + 1)) and {c[4] for c in calls} == {len(files)}
    for t in counts:
        assert sum(c[1].get(t, 0) for c in calls) == counts[t], t
    for county, c, rss, _done, _total in calls:
        assert pq.read_table(tmp_path / "persons" / f"{county}.parquet").num_rows == c["persons"]
        assert 10_000 < rss < 4_000_000  # kB: a real process's peak, not a placeholder


def test_school_costs_come_from_the_generator_settings_not_code():
    """history.school_yearly_cost (generator.json) sets the amount of every 学籍 event: doubling a
    stage's cost doubles its events (same draws), the other stages stay as they were."""
    import dataclasses

    from fangpin.demo.generator.config import HistoryConfig, default_config

    shipped = default_config().history
    assert shipped.school_cost("本科在读") == 7000 and shipped.school_cost("普通高中一年级") == 2500
    costs = dict(shipped.school_yearly_cost, 本科=shipped.school_yearly_cost["本科"] * 2)
    doubled = dataclasses.replace(
        PARAMS,
        config=dataclasses.replace(
            default_config(), history=HistoryConfig(costs, shipped.school_cost_spread)
        ),
    )
    specs = [
        s for s in county_plan("410506", seed=0, villages=VILLAGES) if s.code in {v[0] for v in VILLAGES[:12]}
    ]
    base = list(iter_villages(specs, lambda _c: PARAMS, seed=0))
    other = list(iter_villages(specs, lambda _c: doubled, seed=0))
    stage = {x["person_no"]: x["school_status"] for v in base for x in v.persons}
    seen = set()
    for v, w in zip(base, other, strict=True):
        ev = [e for e in v.history.events if e["kind"] == "school"]
        ew = [e for e in w.history.events if e["kind"] == "school"]
        assert [(e["person_no"], e["month"]) for e in ev] == [(e["person_no"], e["month"]) for e in ew]
        for a, b in zip(ev, ew, strict=True):
            st = stage[a["person_no"]]
            seen.add(st.startswith("本科"))
            lo, hi = (x * shipped.school_cost(st) for x in shipped.school_cost_spread)
            assert lo - 1 <= a["amount"] <= hi + 1, (st, a["amount"])
            want = a["amount"] * 2 if st.startswith("本科") else a["amount"]
            assert abs(b["amount"] - want) <= 1, (st, a["amount"], b["amount"])
    assert seen == {True, False}, "the sample needs both 本科 and other students"


def test_the_work_monitoring_records_job_losses_and_false_alarms_and_changes_no_other_draw():
    """The 务工月监测 trace (``work_end``, generator.json history.work_monitoring) has its own random
    stream: switched off, the history's other events, leads and entries are exactly the same; switched
    on, it records a share of the job losses (registered or not) in their month, with 人社's lag, plus
    ends of work on migrants that lost nothing; it adds no shock (no entry moves)."""
    import dataclasses

    from fangpin.demo.generator import history
    from fangpin.demo.generator.config import default_config

    shipped = default_config().history
    assert shipped.work_end_recorded_share == 0.75 and shipped.work_end_other_rate == 0.01
    off = dataclasses.replace(
        PARAMS,
        config=dataclasses.replace(
            default_config(),
            history=dataclasses.replace(shipped, work_end_recorded_share=0.0, work_end_other_rate=0.0),
        ),
    )
    specs = [
        s for s in county_plan("410506", seed=0, villages=VILLAGES) if s.code in {v[0] for v in VILLAGES[:40]}
    ]
    base = list(iter_villages(specs, lambda _c: PARAMS, seed=0))
    bare = list(iter_villages(specs, lambda _c: off, seed=0))
    ends = losses = recorded = 0
    for v, w in zip(base, bare, strict=True):
        assert [e for e in v.history.events if e["kind"] != "work_end"] == w.history.events
        assert not [e for e in w.history.events if e["kind"] == "work_end"]
        assert v.history.leads == w.history.leads
        assert v.history.households == w.history.households
        mine = [e for e in v.history.events if e["kind"] == "work_end"]
        ends += len(mine)
        for e in mine:
            assert e["known_on"] == history.known_on("job_loss", e["month"])
        at = {(e["person_no"], e["month"]) for e in mine}
        reg = [e for e in v.history.events if e["kind"] == "job_loss"]
        losses += len(reg)
        recorded += sum((e["person_no"], e["month"]) in at for e in reg)
    assert losses > 40 and 0.55 <= recorded / losses <= 0.95, (recorded, losses)
    assert ends > 2 * losses, "most recorded ends are no job loss (false alarms)"


def test_the_medical_push_of_poverty_exited_persons_comes_every_ten_days_and_changes_no_other_draw():
    """With generator.json's history.medical_push every_days = 10 (河北阳原 in policy-research.md §6; the
    shipped demo keeps 0, the monthly push), 医保 pushes the hospital settlements of 脱贫人口 every 10 days: a 脱贫户's stay is known the day after its 10-day period (the 11th,
    the 21st, the 1st of the next month), a 一般农户's stay with the monthly push (+20 days) as before; the
    settlement day has its own random stream, so with the push switched off every event (but the days
    they are known), lead and entry is the same; the known day is never before the month's own days."""
    import dataclasses

    from fangpin.demo.generator import history
    from fangpin.demo.generator.config import default_config

    shipped = default_config().history
    assert shipped.medical_push_every_days == 0, "the demo keeps the monthly push (docs/parts/risk.md)"
    ten = dataclasses.replace(
        PARAMS,
        config=dataclasses.replace(
            default_config(), history=dataclasses.replace(shipped, medical_push_every_days=10)
        ),
    )
    specs = [
        s for s in county_plan("410506", seed=0, villages=VILLAGES) if s.code in {v[0] for v in VILLAGES[:30]}
    ]
    base = list(iter_villages(specs, lambda _c: ten, seed=0))
    monthly = list(iter_villages(specs, lambda _c: PARAMS, seed=0))
    days = Counter()
    ordinary_stays = 0
    for v, w in zip(base, monthly, strict=True):
        kind = {h["household_no"]: h["household_type"] for h in v.households}
        strip = [{k: x for k, x in e.items() if k != "known_on"} for e in v.history.events]
        assert strip == [{k: x for k, x in e.items() if k != "known_on"} for e in w.history.events]
        assert v.history.leads == w.history.leads
        assert v.history.households == w.history.households
        for e, f in zip(v.history.events, w.history.events, strict=True):
            assert f["known_on"] == history.known_on(f["kind"], f["month"])
            if e["kind"] != "hospital" or kind[e["household_no"]] != "脱贫户":
                assert e["known_on"] == f["known_on"]
                ordinary_stays += e["kind"] == "hospital"
                continue
            nxt = history.add_months(e["month"], 1)
            assert e["month"] < e["known_on"] <= nxt
            assert e["known_on"] in (e["month"].replace(day=11), e["month"].replace(day=21), nxt)
            days[e["known_on"].day] += 1
    assert set(days) == {1, 11, 21} and min(days.values()) > 20, days
    assert ordinary_stays > 0, "the sample needs stays of 一般农户 (monthly push)"
