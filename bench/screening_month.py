"""Benchmark: a province-sized screening month through the product's engine path vs bare baselines.

usage: python bench/screening_month.py [--persons 10000000] [--settlements 100000000] [--dir var/bench/screen]
                                       [--only duckdb,duckdb_1g,bare_duckdb,pandas,spark,bare_spark] [--repeat 3]
                                       [--threads 1] [--spark-warm]
Generates (DuckDB range()+hash(), deterministic) the registry export and one month of department batches in
the product's canonical Parquet layout (with the linkage side file of unusable-ID rows the upload writes),
then runs each variant in a fresh process, sampling the RSS of the process tree (JVM included) every 0.1 s,
and prints wall time, query time, the child's CPU time during the query (its process tree: a Spark child's
JVM included; on a shared machine it varies less than wall time), rows/s, peak RSS and the leads per rule.
A failing child's error output is printed.
``--repeat N`` runs every variant once per round, round after round (interleaved, so the other users' load
falls on all of them alike), and prints the median per variant and the product/bare ratios.
``--threads N`` gives every variant the same parallelism (DuckDB ``threads``, Spark ``local[N]``; with
``taskset -c 1`` the bench keeps to one core of a shared machine). ``--spark-warm``: every Spark child,
product and bare alike, runs the month once untimed and times the second, as in a long-lived worker whose
JVM has compiled the queries' code before (the first month in a fresh JVM costs 2-2.5x the second).

Mistyped IDs: ``--mistyped`` (default 0.1 %) of every department's rows carry the person's ID with one
digit changed (id_status 'invalid', no id_number) and the person's name, birth date, sex and village, as a
department file would. Both sides link them, each in its own way: the product path probabilistically
(Splink, through the same run_month: typos in name or birth date tolerated, a probability and the agreeing
fields kept for review); the baselines plainly, as an analyst would: the rows with a usable ID join the
registry on it, the rows whose ID failed the upload's check (id_status <> 'ok') join it on exact name +
birth date + village, and the two joins are stacked (UNION ALL) before the rules. Until 2026-12-01 the
baselines joined on ``true_id`` (the ID as it should have been typed) and linked nothing: the ratios
then charged the product's linkage as overhead against a baseline doing strictly less. On this data (every
mistyped row keeps the person's exact name, birth date and village) the plain exact join finds every
mistyped ID too, so "same as bare" means the same leads rule by rule. The product's linkage recall and
precision against ``true_id`` (the truth) are printed beside it, and a run that misses one is flagged.

- duckdb / duckdb_1g / spark: ``fangpin.screening.engine.pipeline.run_month`` (the function the service
  calls) with the seed rules of ``screening/data/rules.json`` and thresholds from ``policy/data/defaults.json``,
  the registry fact comparisons of ``SourceSpec.facts`` and the run report's row counts (the baselines do
  neither: the product path does strictly more work).
  Not included: the Django parts around it (registry export from the DB, saving hits, pushing leads);
  the one-time imports a worker process has done before its first run (Django apps, Splink) are in setup.
- bare_duckdb / bare_spark: the same rules hand-written as plain SQL (one medical query, like perf/a_screen.py),
  each over its department's rows joined to the registry by ID, plus the unusable-ID rows joined by exact
  name + birth date + village (``EXACT_LINK``).
- pandas: what an analyst would write: read_parquet → filter → merge → groupby → filter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MONTH = "2025-06"
SEED = 20261123
KINDS_SMALL = {  # other departments at realistic sizes per 1,000 registry persons
    "disability": 1.0, "police": 1.0, "education": 0.5, "housing": 0.5, "emergency": 0.5,
    "assets": 2.0, "civil": 2.0, "hrss": 1.0, "water": 1.0,
}  # fmt: skip


def U(k: int, var: str = "i") -> str:
    return f"((hash({var}, {SEED + k}) % 1000000007)::DOUBLE / 1000000007)"


def idn(expr: str) -> str:
    return f"('41' || lpad(({expr})::VARCHAR, 16, '0'))"


def generate(d: Path, n_p: int, n_m: int, mistyped: float) -> None:
    import duckdb

    d.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order=false")
    t = time.perf_counter()
    con.execute(f"""COPY (SELECT i AS person_id, (i // 4)::BIGINT AS household_id,
        '4105' || lpad(((i // 4) % 300)::VARCHAR, 8, '0') AS village_code, 'V' || ((i // 4) % 300)::VARCHAR AS village_name,
        'N' || i::VARCHAR AS name, 'n' || i::VARCHAR AS name_pinyin, {idn("i")} AS id_number,
        (DATE '1940-01-01' + (floor({U(6)} * 27000))::INTEGER) AS birth_date,
        CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END AS sex,
        {U(1)} < 0.30 AS is_exited, ({U(1)} >= 0.30 AND {U(1)} < 0.34) AS is_monitored,
        i % 4 < 2 AS is_labourer, 2::BIGINT AS household_labourers, i % 4 = 0 AS is_main_earner,
        NULL::BIGINT AS disability_grade, NULL::DATE AS death_date, '' AS disability_category,
        CASE WHEN {U(10)} < 0.1 THEN 'C' WHEN {U(10)} < 0.6 THEN 'B' ELSE 'A' END AS house_grade,
        CASE WHEN {U(11)} < 0.1 THEN '农村低保' ELSE '未享受' END AS dibao, '不享受' AS tekun,
        FALSE AS out_of_school, {idn("i")} AS join_key, 'V' || ((i // 4) % 300)::VARCHAR AS village_key
      FROM range({n_p}) t(i)) TO '{d}/persons.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    # department rows: person `pid` (>= n_p: outside the registry); a share with the ID mistyped
    base = ("i AS record_key, 1::BIGINT AS batch_id, i AS row_no, "
            "CASE WHEN {bad} THEN NULL ELSE {id} END AS id_number, "
            "CASE WHEN {bad} THEN {typo} ELSE {id} END AS id_raw, "
            "CASE WHEN {bad} THEN 'invalid' ELSE 'ok' END AS id_status, {id} AS true_id, "
            "CASE WHEN {bad} THEN 'N' || pid::VARCHAR END AS name, "
            "CASE WHEN {bad} THEN 'n' || pid::VARCHAR END AS name_pinyin, "
            "CASE WHEN {bad} THEN (DATE '1940-01-01' + (floor(" + U(6, "pid") + " * 27000))::INTEGER) END AS birth_date, "
            "CASE WHEN {bad} THEN (CASE WHEN pid % 2 = 0 THEN 'M' ELSE 'F' END) END AS sex, "
            "CASE WHEN {bad} THEN 'V' || ((pid // 4) % 300)::VARCHAR END AS village, {date} AS event_date")  # fmt: skip

    def rows(pid: str, date: str, k: int) -> dict:
        ident = idn("pid")
        # one digit changed (position 14-16, the sequence digits): the checksum fails
        typo = f"(left({ident}, 14) || ((substr({ident}, 15, 1)::INTEGER + 3) % 10)::VARCHAR || right({ident}, 3))"
        return {"id": ident, "typo": typo, "bad": f"({U(40 + k)} < {mistyped})", "date": date, "pid": pid}

    def src(pid: str, date: str, k: int, extra_cols: str, n: int, path: str) -> None:
        r = rows(pid, date, k)
        con.execute(f"""COPY (SELECT {base.format(**r)}, {extra_cols} FROM (SELECT i, {pid} AS pid FROM range({n}) t(i)) t)
            TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
        link = path[: -len(".parquet")] + ".link.parquet"  # the side file batch_write makes on upload
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{path}') WHERE id_status <> 'ok') TO '{link}' (FORMAT parquet)"
        )

    med_date = f"(DATE '2025-01-01' + (floor({U(3)} * 181))::INTEGER)"
    src(f"floor({U(2)} * {int(n_p * 1.25)})::BIGINT", med_date, 0,
        f"""{med_date} AS settle_date, CASE WHEN {U(4)} < 0.04 THEN '住院' ELSE '门诊' END AS visit_type,
        CASE WHEN {U(4)} < 0.04 THEN round(pow({U(5)}, 5) * 40000, 2) ELSE round({U(5)} * 300, 2) END AS out_of_pocket""",
        n_m, f"{d}/medical.parquet")  # fmt: skip
    t1 = time.perf_counter()
    extra = {
        "disability": "CASE WHEN {u} < 0.3 THEN 1 WHEN {u} < 0.6 THEN 2 ELSE 3 END::BIGINT AS grade, '4' AS category",
        "police": "CASE WHEN {u} < 0.7 THEN '死亡' ELSE '迁出' END AS change_type, event_date AS change_date",
        "education": "CASE WHEN {u} < 0.2 THEN '辍学' ELSE '在读' END AS status, '初中' AS stage",
        "housing": "CASE WHEN {u} < 0.2 THEN 'D' WHEN {u} < 0.4 THEN 'C' ELSE 'B' END AS grade",
        "emergency": "round({u} * 5000, 2) AS loss_amount, '洪涝' AS disaster_type",
        "assets": "CASE WHEN {u} < 0.5 THEN '车辆' ELSE '房产' END AS asset_type",
        "civil": "'低保' AS scheme, CASE WHEN {u} < 0.3 THEN '停保' ELSE '在保' END AS status",
        "hrss": "CASE WHEN {u} < 0.6 THEN '失业登记' ELSE '就业登记' END AS reg_type",
        "water": "(floor({u} * 15))::BIGINT AS days",
    }
    for j, (k, per_k) in enumerate(KINDS_SMALL.items()):
        n = max(int(n_p * per_k / 1000), 10)
        date = f"(DATE '2025-06-01' + (floor({U(8)} * 30))::INTEGER)"
        src(
            f"floor({U(7)} * {int(n_p * 1.1)})::BIGINT",
            date,
            j + 1,
            extra[k].format(u=U(9)),
            n,
            f"{d}/{k}.parquet",
        )
    print(f"generated persons={n_p:,} medical={n_m:,} in {time.perf_counter() - t:.1f}s (medical {t1 - t:.1f}s)",
          flush=True)  # fmt: skip


def default_param(key: str):
    """A shipped default for 410506 in 2025 (most specific region prefix, latest year): the baselines use the
    same thresholds as the product, read from the same file."""
    params = json.loads((ROOT / "fangpin/policy/data/defaults.json").read_text(encoding="utf-8"))[
        "parameters"
    ]
    c = [
        p
        for p in params
        if p["key"] == key and p["year"] <= 2025 and "410506".startswith(p.get("region", ""))
    ]
    return max(c, key=lambda p: (len(p.get("region", "")), p["year"]))["value"]


def medical_thresholds() -> dict[str, float]:
    return {
        "ytd": float(default_param("screening.medical.exited_annual_oop")),
        "mon": float(default_param("screening.medical.monitored_single_stay")),
        "oth": float(default_param("screening.medical.other_single_stay")),
    }


def rule_specs():
    """Seed rules with default thresholds for 410506 in 2025 (most specific region prefix, latest year)."""
    from fangpin.screening.engine.rules import RuleSpec

    get = default_param

    specs = []
    for r in json.loads((ROOT / "fangpin/screening/data/rules.json").read_text(encoding="utf-8"))["rules"]:
        cond = dict(r.get("condition", {}))
        if cond.get("values_key"):
            cond["values"] = list(get(cond["values_key"]))
        pcs = r.get("person_conditions", [])
        specs.append(RuleSpec(
            code=r["code"], source=r["source"], condition_kind=r["condition_kind"], condition=cond,
            person_conditions=pcs, window=r.get("window", "month"), window_months=r.get("window_months", 1),
            threshold=float(get(r["threshold_key"])) if r.get("threshold_key") else None,
            applies_to=r.get("applies_to", "all"),
            values={pc[k]: get(pc[k]) for pc in pcs for k in ("min_key", "max_key") if pc.get(k)},
        ))  # fmt: skip
    return specs


def sources(d: Path) -> dict[str, list[str]]:
    return {k: [str(d / f"{k}.parquet")] for k in ["medical", *KINDS_SMALL]}


def leads_summary(pairs) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for code, pid in pairs:
        c = out.setdefault(code, [0, 0])
        c[0] += 1
        c[1] = (c[1] + int(pid)) % 1_000_000_007
    return dict(sorted(out.items()))


def tree_cpu() -> float:
    """CPU seconds of this process and its children so far (a Spark child's JVM included)."""
    import psutil

    total = time.process_time()
    for c in psutil.Process().children(recursive=True):
        try:
            t = c.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def child_product(d: Path, engine_name: str, mem: str) -> dict:
    from fangpin.screening.engine import engine_open
    from fangpin.screening.engine.pipeline import LinkPolicy, run_month
    from fangpin.screening.sources import SOURCES

    t = time.perf_counter()
    # what a long-lived worker has imported once (Django apps, Splink): setup, not the run
    import django
    import splink.backends.duckdb  # noqa: F401

    django.setup()
    import fangpin.registry.io.columns  # noqa: F401

    eng = engine_open(engine_name, memory_limit=mem)
    t_open = time.perf_counter() - t
    t, c = time.perf_counter(), tree_cpu()
    res = run_month(eng, month=MONTH, persons_path=str(d / "persons.parquet"), sources=sources(d), rules=rule_specs(),
                    link=LinkPolicy(enabled=True), facts={k: s.facts for k, s in SOURCES.items() if s.facts})  # fmt: skip
    q, cpu = time.perf_counter() - t, tree_cpu() - c
    return {"query_s": q, "cpu_s": cpu, "setup_s": t_open, "timings": res.timings,
            "leads": leads_summary((h["rule_code"], h["person_id"]) for h in res.hits),
            "facts_differing": len(res.facts), "medical_counts": res.counts.get("medical"),
            "linkage": linkage_quality(d, res.linked_person)}  # fmt: skip


def linkage_quality(d: Path, linked: dict[int, int]) -> dict:
    """Recall and precision of the mistyped IDs' links (truth: true_id of the generated rows)."""
    import duckdb

    files = ", ".join(f"'{p}'" for ps in sources(d).values() for p in ps)
    con = duckdb.connect()
    truth = dict(con.sql(f"SELECT s.record_key, p.person_id FROM read_parquet([{files}], union_by_name = true) s "
                         f"JOIN read_parquet('{d}/persons.parquet') p ON p.id_number = s.true_id "
                         f"WHERE s.id_status <> 'ok'").fetchall())  # fmt: skip
    right = sum(1 for k, pid in linked.items() if truth.get(k) == pid)
    return {"mistyped_in_registry": len(truth), "linked": len(linked), "right": right,
            "recall": round(right / len(truth), 4) if truth else None,
            "precision": round(right / len(linked), 4) if linked else None}  # fmt: skip


BARE_MEDICAL = """
SELECT p.person_id, p.is_exited, p.is_monitored,
  sum(CASE WHEN p.visit_type = '住院' THEN p.out_of_pocket END) AS ytd,
  max(CASE WHEN p.visit_type = '住院' THEN p.out_of_pocket END) AS stay
FROM (SELECT m.settle_date, m.visit_type, m.out_of_pocket, p.person_id, p.is_exited, p.is_monitored
        FROM medical m JOIN persons p ON m.id_number = p.id_number
      UNION ALL
      SELECT m.settle_date, m.visit_type, m.out_of_pocket, p.person_id, p.is_exited, p.is_monitored
        FROM medical m JOIN persons p ON {exact_m} WHERE m.id_status <> 'ok') p
WHERE p.settle_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31'
GROUP BY p.person_id, p.is_exited, p.is_monitored
HAVING (p.is_exited AND NOT p.is_monitored AND sum(CASE WHEN p.visit_type = '住院' THEN p.out_of_pocket END) >= {ytd})
    OR (p.is_exited AND p.is_monitored AND sum(CASE WHEN p.visit_type = '住院' THEN p.out_of_pocket END) >= {ytd})
    OR (p.is_monitored AND max(CASE WHEN p.visit_type = '住院' THEN p.out_of_pocket END) > {mon})
    OR (NOT p.is_exited AND NOT p.is_monitored AND max(CASE WHEN p.visit_type = '住院' THEN p.out_of_pocket END) > {oth})
"""
# the plain linkage of an unusable ID: the registry person with the same name, birth date and village
EXACT_LINK = "p.name = {a}.name AND p.birth_date = {a}.birth_date AND p.village_name = {a}.village"
BY_ID = "JOIN persons p ON s.true_id = p.id_number"
BARE_SMALL = {
    "DIS_NEW_SEVERE": "SELECT DISTINCT p.person_id FROM disability s JOIN persons p ON s.true_id = p.id_number WHERE s.grade IN (1, 2) AND (p.disability_grade IS NULL OR s.grade < p.disability_grade)",
    "POL_DEATH_ONLY_LABOURER": "SELECT DISTINCT p.person_id FROM police s JOIN persons p ON s.true_id = p.id_number WHERE s.change_type = '死亡' AND p.is_labourer AND p.household_labourers = 1",
    "EDU_DROPOUT": "SELECT DISTINCT p.person_id FROM education s JOIN persons p ON s.true_id = p.id_number WHERE s.status = '辍学' AND (year(s.event_date) - year(p.birth_date) - CASE WHEN month(s.event_date) * 100 + dayofmonth(s.event_date) < month(p.birth_date) * 100 + dayofmonth(p.birth_date) THEN 1 ELSE 0 END) BETWEEN 6 AND 15",
    "HOUSE_UNSAFE": "SELECT DISTINCT p.person_id FROM housing s JOIN persons p ON s.true_id = p.id_number WHERE s.grade IN ('C', 'D')",
    "DISASTER_LOSS": "SELECT DISTINCT p.person_id FROM emergency s JOIN persons p ON s.true_id = p.id_number WHERE s.loss_amount > 1000",
    "ASSET_MONITORED": "SELECT DISTINCT p.person_id FROM assets s JOIN persons p ON s.true_id = p.id_number WHERE p.is_monitored",
    "DIBAO_CANCELLED": "SELECT DISTINCT p.person_id FROM civil s JOIN persons p ON s.true_id = p.id_number WHERE s.scheme = '低保' AND s.status = '停保'",
    "HRSS_EARNER_UNEMPLOYED": "SELECT DISTINCT p.person_id FROM hrss s JOIN persons p ON s.true_id = p.id_number WHERE s.reg_type = '失业登记' AND p.is_main_earner",
    "WATER_INTERRUPTED": "SELECT DISTINCT p.person_id FROM water s JOIN persons p ON s.true_id = p.id_number WHERE s.days > 7",
}


def bare_queries() -> tuple[str, dict[str, str]]:
    """The baselines' SQL: the medical query, and per small rule its persons by ID UNION those by exact link."""
    med = BARE_MEDICAL.format(exact_m=EXACT_LINK.format(a="m"), **medical_thresholds())
    small = {}
    for code, q in BARE_SMALL.items():
        assert BY_ID in q
        by_id = q.replace(BY_ID, "JOIN persons p ON s.id_number = p.id_number")
        linked = q.replace(BY_ID, f"JOIN persons p ON {EXACT_LINK.format(a='s')}").replace(
            " WHERE ", " WHERE s.id_status <> 'ok' AND ", 1
        )
        small[code] = f"{by_id} UNION {linked}"
    return med, small


def _bare_collect(med_rows, small) -> dict:
    t = medical_thresholds()
    pairs = []
    for pid, ex, mo, ytd, stay in med_rows:
        if ex and not mo and ytd is not None and ytd >= t["ytd"]:
            pairs.append(("MED_EXITED_YTD_OOP", pid))
        if ex and mo and ytd is not None and ytd >= t["ytd"]:
            pairs.append(("MED_EXITED_YTD_OOP", pid))
        if mo and stay is not None and stay > t["mon"]:
            pairs.append(("MED_STAY_MONITORED", pid))
        if not ex and not mo and stay is not None and stay > t["oth"]:
            pairs.append(("MED_STAY_OTHER", pid))
    for code, pids in small.items():
        pairs += [(code, p) for p in pids]
    return leads_summary(pairs)


def child_bare_duckdb(d: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    if os.environ.get("FANGPIN_DUCKDB_THREADS"):  # the same thread count as the product path
        con.execute(f"SET threads = {int(os.environ['FANGPIN_DUCKDB_THREADS'])}")
    t, c = time.perf_counter(), tree_cpu()
    for k, paths in {"persons": [str(d / "persons.parquet")], **sources(d)}.items():
        con.execute(f"CREATE VIEW {k} AS SELECT * FROM read_parquet('{paths[0]}')")
    con.execute("CREATE MACRO dayofmonth(x) AS day(x)")
    med_sql, small_sql = bare_queries()
    med = con.sql(med_sql).fetchall()
    small = {c: [r[0] for r in con.sql(q).fetchall()] for c, q in small_sql.items()}
    q, cpu = time.perf_counter() - t, tree_cpu() - c
    # exited AND monitored persons fall under both medical rules in the product; mirror that here
    return {"query_s": q, "cpu_s": cpu, "setup_s": 0.0, "leads": _bare_collect(med, small)}


def child_bare_spark(d: Path) -> dict:
    from fangpin.screening.engine.spark import spark_session_local

    t = time.perf_counter()
    spark = spark_session_local()
    setup = time.perf_counter() - t
    t, c = time.perf_counter(), tree_cpu()
    for k, paths in {"persons": [str(d / "persons.parquet")], **sources(d)}.items():
        spark.read.parquet(paths[0]).createOrReplaceTempView(k)
    med_sql, small_sql = bare_queries()
    med = [tuple(r) for r in spark.sql(med_sql).collect()]
    small = {c: [r[0] for r in spark.sql(q).collect()] for c, q in small_sql.items()}
    q, cpu = time.perf_counter() - t, tree_cpu() - c
    return {"query_s": q, "cpu_s": cpu, "setup_s": setup, "leads": _bare_collect(med, small)}


def child_pandas(d: Path) -> dict:
    import pandas as pd

    t = time.perf_counter()
    p = pd.read_parquet(d / "persons.parquet", to_pandas_kwargs={"date_as_object": False})
    m = pd.read_parquet(d / "medical.parquet", columns=["true_id", "settle_date", "visit_type", "out_of_pocket"],
                        to_pandas_kwargs={"date_as_object": False})  # fmt: skip
    m = m[(m.settle_date >= "2025-01-01") & (m.settle_date <= "2025-12-31")]
    df = m.merge(
        p[["id_number", "person_id", "is_exited", "is_monitored"]], left_on="true_id", right_on="id_number"
    )
    del m
    inp = df.visit_type == "住院"
    df["ytd"] = df.out_of_pocket.where(inp)
    df["stay"] = df.out_of_pocket.where(inp)
    g = (
        df.groupby(["person_id", "is_exited", "is_monitored"], sort=False)
        .agg(ytd=("ytd", "sum"), stay=("stay", "max"))
        .reset_index()
    )
    del df
    g.loc[g.ytd == 0, "ytd"] = None
    med = list(
        g[(g.ytd >= medical_thresholds()["ytd"]) | (g.stay > medical_thresholds()["mon"])][
            ["person_id", "is_exited", "is_monitored", "ytd", "stay"]
        ].itertuples(index=False, name=None)
    )
    small = {}
    for code, (k, cond) in {
        "DIS_NEW_SEVERE": (
            "disability",
            lambda x: x.grade.isin([1, 2]) & (x.disability_grade.isna() | (x.grade < x.disability_grade)),
        ),
        "POL_DEATH_ONLY_LABOURER": (
            "police",
            lambda x: (x.change_type == "死亡") & x.is_labourer & (x.household_labourers == 1),
        ),
        "EDU_DROPOUT": (
            "education",
            lambda x: (
                (x.status == "辍学")
                & (
                    (
                        x.event_date.dt.year
                        - x.birth_date_r.dt.year
                        - (
                            (x.event_date.dt.month * 100 + x.event_date.dt.day)
                            < (x.birth_date_r.dt.month * 100 + x.birth_date_r.dt.day)
                        ).astype(int)
                    ).between(6, 15)
                )
            ),
        ),
        "HOUSE_UNSAFE": ("housing", lambda x: x.grade.isin(["C", "D"])),
        "DISASTER_LOSS": ("emergency", lambda x: x.loss_amount > 1000),
        "ASSET_MONITORED": ("assets", lambda x: x.is_monitored),
        "DIBAO_CANCELLED": ("civil", lambda x: (x.scheme == "低保") & (x.status == "停保")),
        "HRSS_EARNER_UNEMPLOYED": ("hrss", lambda x: (x.reg_type == "失业登记") & x.is_main_earner),
        "WATER_INTERRUPTED": ("water", lambda x: x.days > 7),
    }.items():
        s = pd.read_parquet(d / f"{k}.parquet", to_pandas_kwargs={"date_as_object": False}).drop(
            columns=["birth_date", "id_number", "name", "name_pinyin", "sex", "village"]
        )
        x = s.merge(p.rename(columns={"birth_date": "birth_date_r"}), left_on="true_id", right_on="id_number")
        small[code] = list(x[cond(x)].person_id.unique())
    return {"query_s": time.perf_counter() - t, "setup_s": 0.0, "leads": _bare_collect(med, small)}


# --spark-warm: each Spark child (product and bare alike) runs the month once untimed before the timed run
WARM = os.environ.get("FANGPIN_BENCH_SPARK_WARM") == "1"


def child(variant: str, d: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.test")
    if variant == "duckdb":
        out = child_product(d, "duckdb", os.environ.get("FANGPIN_DUCKDB_MEMORY_LIMIT", ""))
    elif variant == "duckdb_1g":
        out = child_product(d, "duckdb", "1GB")
    elif variant == "spark":
        t = time.perf_counter()
        from fangpin.screening.engine.spark import spark_session_local

        spark_session_local()
        s = time.perf_counter() - t
        if WARM:  # a worker's JVM that has run a month before (JIT, generated code): not timed
            t = time.perf_counter()
            child_product(d, "spark", "")
            s += time.perf_counter() - t
        out = child_product(d, "spark", "")
        out["setup_s"] += s
    elif variant == "bare_duckdb":
        out = child_bare_duckdb(d)
    elif variant == "bare_spark":
        if WARM:
            t = time.perf_counter()
            child_bare_spark(d)
            warm = time.perf_counter() - t
        out = child_bare_spark(d)
        if WARM:
            out["setup_s"] += warm
    elif variant == "pandas":
        out = child_pandas(d)
    print("CHILD " + json.dumps(out, default=str), flush=True)


def measure(variant: str, d: Path) -> dict:
    import psutil

    t0 = time.perf_counter()
    err_path = d / f"child_{variant}.stderr"
    err = err_path.open("w")
    proc = subprocess.Popen([sys.executable, __file__, "--child", variant, "--dir", str(d)], stdout=subprocess.PIPE,
                            stderr=err, text=True)  # fmt: skip
    p = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = sum(q.memory_info().rss for q in [p, *p.children(recursive=True)])
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        time.sleep(0.1)
    out_text = proc.stdout.read()
    wall = time.perf_counter() - t0
    line = next((ln for ln in out_text.splitlines() if ln.startswith("CHILD ")), None)
    err.close()
    if line:
        res = json.loads(line[6:])
    else:  # the child failed: keep the end of its error output for the report
        lines = err_path.read_text(errors="replace").strip().splitlines()
        # the first line naming an error (a JVM's message comes before pages of its plan), then the end
        first = next((ln[:600] for ln in lines if "Error" in ln or "Exception" in ln), None)
        res = {"error": f"rc={proc.returncode}", "stderr": ([first, "..."] if first else []) + lines[-15:]}
    res.update(variant=variant, wall_s=wall, peak_gb=peak / 2**30)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=10_000_000)
    ap.add_argument("--settlements", type=int, default=100_000_000)
    ap.add_argument("--dir", default=str(ROOT / "var" / "bench" / "screen"))
    ap.add_argument("--only", default="duckdb,duckdb_1g,bare_duckdb,pandas,spark,bare_spark")
    ap.add_argument("--mistyped", type=float, default=0.001, help="share of rows with a mistyped ID")
    ap.add_argument(
        "--repeat", type=int, default=1, help="rounds of all variants, interleaved (median reported)"
    )
    ap.add_argument(
        "--threads", type=int, default=0,
        help="threads for every variant alike (DuckDB threads, Spark local[N]); 0 = the engines' defaults",
    )  # fmt: skip
    ap.add_argument(
        "--spark-warm", action="store_true",
        help="Spark variants time their second month in the JVM (a long-lived worker), the first is setup",
    )  # fmt: skip
    ap.add_argument("--child", default="")
    a = ap.parse_args()
    if a.spark_warm:
        os.environ["FANGPIN_BENCH_SPARK_WARM"] = "1"
    if a.threads:  # inherited by the children: product and bare variants get the same count
        os.environ["FANGPIN_DUCKDB_THREADS"] = str(a.threads)
        os.environ["FANGPIN_SPARK_MASTER"] = f"local[{a.threads}]"
    d = Path(a.dir) / f"{a.persons}x{a.settlements}m{a.mistyped:g}"
    if a.child:
        child(a.child, Path(a.dir))
        return
    if not (d / "medical.parquet").exists():
        generate(d, a.persons, a.settlements, a.mistyped)
    load0 = os.getloadavg()
    variants = a.only.split(",")
    rows = []
    for rnd in range(a.repeat):  # interleaved: every variant once per round, so load hits them alike
        for v in variants:
            r = measure(v, d)
            r["round"] = rnd + 1
            rows.append(r)
            print(
                f"  round {rnd + 1} {v}: " + (f"{r['query_s']:.1f} s" if "query_s" in r else "FAILED"),
                flush=True,
            )
    n = a.settlements
    print(
        f"\nscreening month {a.persons:,} persons x {n:,} settlements (+ 9 other departments), {MONTH}, "
        f"{a.mistyped:.2%} of rows with a mistyped ID; threads {a.threads or 'default'}"
        f"{'; Spark warm (second month in the JVM)' if a.spark_warm else ''}; load average before: {load0}, after: {os.getloadavg()}"
    )
    print(f"{'variant':<12} {'rnd':>3} {'wall s':>8} {'query s':>8} {'cpu s':>7} {'setup s':>8} {'rows/s':>12} "
          f"{'peak GB':>8}  leads")  # fmt: skip
    bases = [r for r in rows if r["variant"] in ("bare_duckdb", "bare_spark") and "query_s" in r]
    base = bases[0] if bases else None
    for r in rows:
        if "query_s" not in r:
            print(
                f"{r['variant']:<12} {r['round']:>3} FAILED {r.get('error')} after {r['wall_s']:.1f}s, "
                f"peak {r['peak_gb']:.2f} GB"
            )
            for ln in r.get("stderr", []):
                print(f"    | {ln}")
            continue
        same = "" if base is None else ("same as bare" if r["leads"] == base["leads"] else "DIFFERENT")
        total = sum(c for c, _ in r["leads"].values())
        cpu = f"{r['cpu_s']:7.1f}" if r.get("cpu_s") is not None else f"{'-':>7}"
        print(f"{r['variant']:<12} {r['round']:>3} {r['wall_s']:8.1f} {r['query_s']:8.1f} {cpu} {r['setup_s']:8.1f} "
              f"{n / r['query_s']:12,.0f} {r['peak_gb']:8.2f}  {total:,} {same}")  # fmt: skip
    for r in rows:
        if "timings" in r:
            print(f"  {r['variant']} round {r['round']} steps: {r['timings']}")
        if r.get("linkage"):
            lk = r["linkage"]
            whole = "all linked right" if lk["right"] == lk["mistyped_in_registry"] else "INCOMPLETE"
            print(f"  {r['variant']} round {r['round']} linkage of mistyped IDs: {lk} ({whole})")
    med, med_cpu = {}, {}
    for v in variants:
        ok = sorted(r["query_s"] for r in rows if r["variant"] == v and "query_s" in r)
        cpu = sorted(r["cpu_s"] for r in rows if r["variant"] == v and r.get("cpu_s") is not None)
        failed = sum(1 for r in rows if r["variant"] == v and "query_s" not in r)
        med[v] = statistics.median(ok) if ok else None
        med_cpu[v] = statistics.median(cpu) if cpu else None
        print(f"  median {v}: query {med[v] if med[v] is None else round(med[v], 2)} s"
              + (f", cpu {statistics.median(cpu):.2f} s" if cpu else "") + f" over {len(ok)} runs"
              + (f", {failed} FAILED" if failed else ""))  # fmt: skip
    for prod, bare in (("duckdb", "bare_duckdb"), ("duckdb_1g", "bare_duckdb"), ("spark", "bare_spark")):
        if med.get(prod) and med.get(bare):
            per_round = [
                round(p["query_s"] / b["query_s"], 2)
                for p in rows if p["variant"] == prod and "query_s" in p
                for b in rows if b["variant"] == bare and "query_s" in b and b["round"] == p["round"]
            ]  # fmt: skip
            cpu = (
                f"; CPU {med_cpu[prod] / med_cpu[bare]:.2f}x (medians)"
                if med_cpu.get(prod) and med_cpu.get(bare)
                else ""
            )
            print(f"  {prod} / {bare}: {med[prod] / med[bare]:.2f}x (medians); per round {per_round}{cpu}")
    if base:
        print(f"  leads per rule ({base['variant']}):", {k: v[0] for k, v in base["leads"].items()})


if __name__ == "__main__":
    main()
