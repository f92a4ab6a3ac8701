"""Features of every household at risk at a month, from what was known before that month (Polars).

``features_at(facts, month)`` returns one row per household in the *population* at ``month``: a
registered 脱贫户 that has never been a monitoring object before ``month`` and has no lead under
verification (those are already being looked at). Every input was known before the first day of
``month`` (``known_on < month``): the previous complete year's income only from 1 April, department
events from their push, leads and enrolments from their dates. ``labels_at`` is the target: the
household is enrolled (or a lead on it is confirmed) in ``month`` … ``month + horizon − 1``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fangpin.core.clock import add_months

from .facts import RiskFacts

FULL = ("技能劳动力", "普通劳动力")
WEAK = ("弱劳动力或半劳动力",)
MIGRANT = ("省外务工", "省内县外务工")
ADV_STUDY = ("普通高中", "中职", "高职高专", "本科")

# the model's inputs, in order (never 民族, 性别, names or IDs: facts.PERSON_COLUMNS has none)
FEATURES = (
    "members",
    "elders",
    "children",
    "full_labour",
    "weak_labour",
    "labour_share",
    "dependants_share",
    "serious_ill",
    "chronic_ill",
    "disabled",
    "disabled_severe",
    "migrant_workers",
    "advanced_students",
    "dibao",
    "tekun",
    "land_per_head",
    "house_unsafe",
    "water_scarce",
    "years_since_exit",
    "income_ratio",
    "income_ratio_prev",
    "income_change",
    "oop_ratio",
    "hospital_3m",
    "hospital_12m",
    "selfpay_3m",
    "selfpay_12m",
    "selfpay_12m_ratio",
    "months_since_hospital",
    "job_loss_6m",
    "months_since_job_loss",
    "disaster_loss_12m",
    "school_cost_12m",
    "disability_new_12m",
    "death_12m",
    "leads_rejected_24m",
    "village_entries_24m",
    "village_disaster_12m",
    # added 2026-12-01 (session 4): what the history's causes leave before the month
    "shock_stock",
    "income_ratio_mean",
    "income_ratio_min",
    "income_years_near_line",
    "months_to_september",
    "entering_high_school",
    "migrant_per_labour",
    "leads_rejected_ever",
    "months_since_lead",
    # added 2026-12-01 evening (session 5): the household's own rate of hospital stays over three years,
    # the generator's fall term "no full labourer of any age", the coming September's continuing 高中
    "hospital_36m",
    "selfpay_36m_ratio",
    "no_full_labour",
    "high_school_continuing",
)
# computed beside FEATURES but not read by the product's model: candidates the bench tries on its
# validation window (``bench/risk_eval.py --add``), kept for the record of what was tried (docs/parts/risk.md)
CANDIDATES = (
    "selfpay_ytd",  # 当年累计住院自付 known before the month (the screening rule's own sum)
    "rule_flags",  # how many of the rule baseline's flags the household raises (``model.rule_scores``)
)
# a known event's cost as a share of the household's year at the line (money events), or its weight
# (the others); the stock decays by this factor a month (``shock_stock``)
SHOCK_DECAY = 0.85
# the rule baseline's default thresholds (``model.RuleThresholds``), for the candidate ``rule_flags``
RULE_ANNUAL_OOP = 5000.0
RULE_DISASTER_LOSS = 1000.0
RULE_SEVERE_GRADE = 2
RULE_RECENT_MONTHS = 3  # RuleThresholds.recent_months
NEAR_LINE = 1.2  # a year's per-capita income under this × the line is "near the line"


def _age_at(col: str, on: dt.date) -> pl.Expr:
    return (pl.lit(on).dt.year() - pl.col(col).dt.year()) - (
        (pl.col(col).dt.month() * 100 + pl.col(col).dt.day()) > (on.month * 100 + on.day)
    ).cast(pl.Int32)


def _months_between(col: str, on: dt.date) -> pl.Expr:
    return (on.year * 12 + on.month) - (pl.col(col).dt.year() * 12 + pl.col(col).dt.month())


def _school_start_year(col: str, age: int) -> pl.Expr:
    """The year a person born on ``col`` starts the stage entered at ``age`` (the 31 August cut-off)."""
    return pl.col(col).dt.year() + age + (pl.col(col).dt.month() > 8).cast(pl.Int32)


def traits_at(persons: pl.DataFrame, month: dt.date) -> pl.DataFrame:
    """One row per person: their latest version recorded (``known_on``) and in effect (``valid_from``)
    before ``month`` — the latest recording first, then the latest effective date within it."""
    known = persons.filter(
        (pl.col("valid_from").is_null() | (pl.col("valid_from") < month))
        & (pl.col("known_on").is_null() | (pl.col("known_on") < month))
    )
    if known.height == known.get_column("person_no").n_unique():
        return known
    return known.sort(["known_on", "valid_from"], nulls_last=False).unique(
        subset="person_no", keep="last", maintain_order=True
    )


def population(facts: RiskFacts, month: dt.date) -> pl.DataFrame:
    """household_no of the households at risk at ``month`` (see the module doc)."""
    before = facts.objects.filter(pl.col("identified_on") < month).select("household_no")
    # a lead under verification, or one verification confirmed (the enrolment is only a matter of days:
    # the outcome is known, there is nothing left to forecast)
    open_leads = facts.leads.filter(
        (pl.col("opened_on") < month)
        & (
            pl.col("closed_on").is_null()
            | (pl.col("closed_on") >= month)
            | (pl.col("outcome") == "confirmed")
        )
    ).select("household_no")
    return (
        facts.households.filter(pl.col("household_type") == "脱贫户")
        .select("household_no", "village")
        .join(before, on="household_no", how="anti")
        .join(open_leads, on="household_no", how="anti")
    )


def features_at(facts: RiskFacts, month: dt.date) -> pl.DataFrame:
    """One row per household of the population at ``month``: household_no, village, FEATURES."""
    month = month.replace(day=1)
    next_sept = dt.date(month.year if month.month <= 9 else month.year + 1, 9, 1)
    pop = population(facts, month)
    # members on the day before the month (entered by then, not yet left), each with the version of
    # their traits recorded and in effect before the month (facts.py: bitemporal person versions)
    p = (
        traits_at(facts.persons, month)
        .filter(
            (pl.col("entered_on").is_null() | (pl.col("entered_on") < month))
            & (pl.col("left_on").is_null() | (pl.col("left_on") >= month))
        )
        .with_columns(age=_age_at("birth_date", month))
    )
    disabled_known = (pl.col("health") == "残疾") & (
        pl.col("disabled_since").is_null() | (pl.col("disabled_since") < add_months(month, -1))
    )
    comp = p.group_by("household_no").agg(
        members=pl.len(),
        elders=(pl.col("age") >= 60).sum(),
        children=(pl.col("age") < 16).sum(),
        full_labour=(pl.col("labour_skill").is_in(FULL) & (pl.col("age") < 65)).sum(),
        weak_labour=pl.col("labour_skill").is_in(WEAK).sum(),
        serious_ill=(pl.col("health") == "患有大病").sum(),
        chronic_ill=(pl.col("health") == "长期慢性病").sum(),
        disabled=disabled_known.sum(),
        disabled_severe=(disabled_known & (pl.col("disability_grade").fill_null(9) <= 2)).sum(),
        migrant_workers=pl.col("work_status").is_in(MIGRANT).sum(),
        advanced_students=pl.col("school_status")
        .str.starts_with(ADV_STUDY[0])
        .or_(*[pl.col("school_status").str.starts_with(s) for s in ADV_STUDY[1:]])
        .sum(),
        dibao=pl.col("dibao").any().cast(pl.Int8),
        tekun=pl.col("tekun").any().cast(pl.Int8),
        labour_any_age=pl.col("labour_skill").is_in(FULL).sum(),
        # children whose 高中/中职 starts the coming September (from their birth dates alone)
        entering_high_school=(_school_start_year("birth_date", 15) == next_sept.year).sum(),
        # children in their second or third 高中/中职 year the coming September (birth dates alone)
        high_school_continuing=_school_start_year("birth_date", 15)
        .is_between(next_sept.year - 2, next_sept.year - 1)
        .sum(),
    )
    hh = facts.households.select(
        "household_no",
        land=pl.col("land_mu"),
        house_unsafe=(pl.col("house_grade").is_in(["C", "D"]) & (pl.col("house_appraised_on") < month)).cast(
            pl.Int8
        ),
        water_scarce=pl.col("water_scarce").cast(pl.Int8),
        years_since_exit=(month.year - pl.col("exited_year")).cast(pl.Float64),
    )
    # income: the last two complete years known before the month
    inc = (
        facts.incomes.filter(pl.col("known_on") < month)
        .sort("year")
        .group_by("household_no")
        .agg(
            last_year=pl.col("year").last(),
            net_last=pl.col("net").last(),
            oop_last=pl.col("oop").last(),
            net_prev=pl.col("net").slice(-2, 1).first(),
            prev_year=pl.col("year").slice(-2, 1).first(),
        )
    )
    lines = pl.DataFrame(
        {"year": list(facts.lines), "line": list(facts.lines.values())},
        schema={"year": pl.Int32, "line": pl.Float64},
    )
    max_line = max(facts.lines.values())
    # every complete year known before the month: per-capita net (members at the month) / its line
    traj = (
        facts.incomes.filter(pl.col("known_on") < month)
        .join(lines, on="year", how="left")
        .join(comp.select("household_no", "members"), on="household_no", how="left")
        .with_columns(
            r=pl.col("net") / pl.col("members").fill_null(1).clip(1) / pl.col("line").fill_null(max_line)
        )
        .group_by("household_no")
        .agg(
            income_ratio_mean=pl.col("r").mean(),
            income_ratio_min=pl.col("r").min(),
            income_years_near_line=(pl.col("r") < NEAR_LINE).sum(),
        )
    )
    inc = inc.join(lines.rename({"year": "last_year", "line": "line_last"}), on="last_year", how="left").join(
        lines.rename({"year": "prev_year", "line": "line_prev"}), on="prev_year", how="left"
    )
    # department events known before the month
    ev = facts.events.filter(pl.col("known_on") < month).with_columns(ago=_months_between("month", month))
    evs = ev.group_by("household_no").agg(
        hospital_3m=((pl.col("kind") == "hospital") & (pl.col("ago") <= 3)).sum(),
        hospital_12m=((pl.col("kind") == "hospital") & (pl.col("ago") <= 12)).sum(),
        selfpay_3m=pl.when((pl.col("kind") == "hospital") & (pl.col("ago") <= 3))
        .then(pl.col("amount"))
        .otherwise(0)
        .sum(),
        selfpay_12m=pl.when((pl.col("kind") == "hospital") & (pl.col("ago") <= 12))
        .then(pl.col("amount"))
        .otherwise(0)
        .sum(),
        months_since_hospital=pl.when(pl.col("kind") == "hospital").then(pl.col("ago")).min(),
        hospital_36m=((pl.col("kind") == "hospital") & (pl.col("ago") <= 36)).sum(),
        selfpay_36m=pl.when((pl.col("kind") == "hospital") & (pl.col("ago") <= 36))
        .then(pl.col("amount"))
        .otherwise(0)
        .sum(),
        job_loss_6m=((pl.col("kind") == "job_loss") & (pl.col("ago") <= 6)).sum(),
        months_since_job_loss=pl.when(pl.col("kind") == "job_loss").then(pl.col("ago")).min(),
        disaster_loss_12m=pl.when((pl.col("kind") == "disaster") & (pl.col("ago") <= 12))
        .then(pl.col("amount"))
        .otherwise(0)
        .sum(),
        school_cost_12m=pl.when((pl.col("kind") == "school") & (pl.col("ago") <= 12))
        .then(pl.col("amount"))
        .otherwise(0)
        .sum(),
        disability_new_12m=((pl.col("kind") == "disability") & (pl.col("ago") <= 12)).sum(),
        death_12m=((pl.col("kind") == "death") & (pl.col("ago") <= 12)).sum(),
        # the rule baseline's own sums and flags (model.rule_scores: 当年累计 self-pay, the last RULE_RECENT_MONTHS months)
        selfpay_ytd=pl.when(
            (pl.col("kind") == "hospital")
            & (pl.col("month").dt.year() == (month - dt.timedelta(days=1)).year)
        )
        .then(pl.col("amount"))
        .otherwise(0)
        .sum(),
        rule_job=((pl.col("ago") <= RULE_RECENT_MONTHS) & (pl.col("kind") == "job_loss"))
        .any()
        .cast(pl.Int32),
        rule_death=((pl.col("ago") <= RULE_RECENT_MONTHS) & (pl.col("kind") == "death")).any().cast(pl.Int32),
        rule_severe=(
            (pl.col("ago") <= RULE_RECENT_MONTHS)
            & (pl.col("kind") == "disability")
            & (pl.col("amount") <= RULE_SEVERE_GRADE)
        )
        .any()
        .cast(pl.Int32),
        rule_disaster=(
            (pl.col("ago") <= RULE_RECENT_MONTHS)
            & (pl.col("kind") == "disaster")
            & (pl.col("amount") >= RULE_DISASTER_LOSS)
        )
        .any()
        .cast(pl.Int32),
    )
    # the known shocks as the household would feel them: a money event's cost relative to a year of
    # the household at the line (a 高中/大学 cost counts fully in its first September), a job loss as the
    # share of the labour it takes, a new 一二级 disability or a death as a fixed weight; decaying
    hh_size = comp.select("household_no", n_now=pl.col("members"), lab=pl.col("labour_any_age"))
    ev_line = ev.with_columns(year=pl.col("month").dt.year().cast(pl.Int32)).join(
        lines, on="year", how="left"
    )
    first_school = (pl.col("kind") == "school") & (
        pl.col("month") == pl.col("month").min().over("person_no", "kind")
    )
    shocks = (
        ev_line.join(hh_size, on="household_no", how="left")
        .with_columns(per_line=pl.col("line").fill_null(max_line) * pl.col("n_now").fill_null(1).clip(1))
        .with_columns(
            s=pl.when(pl.col("kind") == "hospital")
            .then(2.2 * pl.col("amount") / pl.col("per_line"))
            .when(pl.col("kind") == "disaster")
            .then(1.5 * pl.col("amount") / pl.col("per_line"))
            .when(first_school)
            .then(1.5 * pl.col("amount") / pl.col("per_line"))
            .when(pl.col("kind") == "school")
            .then(0.6 * pl.col("amount") / pl.col("per_line"))
            .when(pl.col("kind") == "job_loss")
            .then(1.3 / pl.col("lab").fill_null(0).clip(1))
            .when(pl.col("kind") == "disability")
            .then(pl.when(pl.col("amount") <= 2).then(1.2).otherwise(0.5))
            .when(pl.col("kind") == "death")
            .then(0.8)
            .otherwise(0.0)
            * SHOCK_DECAY ** (pl.col("ago") - 1).clip(0)
        )
        # a fixed order of the terms: the joins above need not keep the rows' order, and a float sum
        # in another order differs in its last bit (the features at a month must not depend on rows
        # that are filtered out anyway)
        .sort("household_no", "month", "kind", "person_no", "s")
        .group_by("household_no", maintain_order=True)
        .agg(shock_stock=pl.col("s").sum())
    )
    leads = (
        facts.leads.filter((pl.col("outcome") == "rejected") & (pl.col("closed_on") < month))
        .filter(pl.col("opened_on") >= add_months(month, -24))
        .group_by("household_no")
        .agg(leads_rejected_24m=pl.len())
    )
    leads_all = (
        facts.leads.filter((pl.col("outcome") == "rejected") & (pl.col("closed_on") < month))
        .group_by("household_no")
        .agg(
            leads_rejected_ever=pl.len(),
            months_since_lead=_months_between("opened_on", month).min(),
        )
    )
    # village conditions: enrolments of the last 24 months per registered household, disasters
    vhh = facts.households.group_by("village").agg(v_households=pl.len())
    vent = (
        facts.objects.filter(
            (pl.col("identified_on") < month) & (pl.col("identified_on") >= add_months(month, -24))
        )
        .join(facts.households.select("household_no", "village"), on="household_no")
        .group_by("village")
        .agg(v_entries=pl.len())
    )
    vdis = (
        ev.filter((pl.col("kind") == "disaster") & (pl.col("ago") <= 12))
        .join(facts.households.select("household_no", "village"), on="household_no")
        .group_by("village")
        .agg(village_disaster_12m=pl.len())
    )
    line_now = facts.lines.get(month.year - 1) or max(facts.lines.values())
    out = (
        pop.join(comp, on="household_no", how="left")
        .join(hh, on="household_no", how="left")
        .join(inc, on="household_no", how="left")
        .join(evs, on="household_no", how="left")
        .join(leads, on="household_no", how="left")
        .join(traj, on="household_no", how="left")
        .join(shocks, on="household_no", how="left")
        .join(leads_all, on="household_no", how="left")
        .join(vhh, on="village", how="left")
        .join(vent, on="village", how="left")
        .join(vdis, on="village", how="left")
    )
    n = pl.col("members").fill_null(0).clip(lower_bound=1).cast(pl.Float64)
    out = out.with_columns(
        labour_share=pl.col("full_labour") / n,
        dependants_share=(pl.col("elders") + pl.col("children")) / n,
        land_per_head=pl.col("land") / n,
        income_ratio=pl.col("net_last") / n / pl.col("line_last"),
        income_ratio_prev=pl.col("net_prev") / n / pl.col("line_prev"),
        oop_ratio=pl.col("oop_last") / n / pl.col("line_last"),
        selfpay_12m_ratio=pl.col("selfpay_12m") / n / line_now,
        selfpay_36m_ratio=pl.col("selfpay_36m").fill_null(0) / n / line_now,
        no_full_labour=(pl.col("labour_any_age").fill_null(0) == 0).cast(pl.Int8),
        village_entries_24m=pl.col("v_entries").fill_null(0) / pl.col("v_households"),
        months_to_september=pl.lit((9 - month.month) % 12),
        migrant_per_labour=pl.col("migrant_workers") / pl.col("labour_any_age").fill_null(0).clip(1),
    ).with_columns(income_change=pl.col("income_ratio") - pl.col("income_ratio_prev"))
    out = out.with_columns(
        rule_flags=(pl.col("income_ratio").fill_null(9) < 1).cast(pl.Int32)
        + (pl.col("selfpay_ytd").fill_null(0) >= RULE_ANNUAL_OOP).cast(pl.Int32)
        + pl.sum_horizontal(
            [pl.col(c).fill_null(0) for c in ("rule_job", "rule_death", "rule_severe", "rule_disaster")]
        )
        + (pl.col("house_unsafe") > 0).cast(pl.Int32)
    )
    zero = [
        "hospital_3m",
        "hospital_12m",
        "selfpay_3m",
        "selfpay_12m",
        "selfpay_12m_ratio",
        "job_loss_6m",
        "disaster_loss_12m",
        "school_cost_12m",
        "disability_new_12m",
        "death_12m",
        "leads_rejected_24m",
        "village_disaster_12m",
        "shock_stock",
        "leads_rejected_ever",
        "entering_high_school",
        "income_years_near_line",
        "hospital_36m",
        "high_school_continuing",
        "selfpay_ytd",
    ]
    out = out.with_columns([pl.col(c).fill_null(0) for c in zero])
    return out.select(
        "household_no", "village", *[pl.col(c).cast(pl.Float64) for c in (*FEATURES, *CANDIDATES)]
    ).sort("household_no")


def labels_at(
    facts: RiskFacts, month: dt.date, horizon: int, *, known_before: dt.date | None = None
) -> pl.DataFrame:
    """household_no → 1 if enrolled or a lead confirmed in ``month`` … ``month + horizon − 1``.

    ``known_before``: the training cut. A lead opened in the window counts as confirmed only if its
    verification closed before the cut (a lead still under verification at the cut has no known outcome
    yet; a confirmed lead without a close date counts as not known). Without it (the evaluation's truth,
    computed after the fact) a lead counts by its final outcome. Enrolments in the window are known by
    the cut by construction (``training_months``: the window ends before it)."""
    month = month.replace(day=1)
    end = add_months(month, horizon)
    ent = facts.objects.filter((pl.col("identified_on") >= month) & (pl.col("identified_on") < end)).select(
        "household_no"
    )
    confirmed = (
        (pl.col("outcome") == "confirmed") & (pl.col("opened_on") >= month) & (pl.col("opened_on") < end)
    )
    if known_before is not None:
        confirmed = confirmed & pl.col("closed_on").is_not_null() & (pl.col("closed_on") < known_before)
    conf = facts.leads.filter(confirmed).select("household_no")
    return pl.concat([ent, conf]).unique().with_columns(label=pl.lit(1, dtype=pl.Int8))


def labelled(
    feats: pl.DataFrame,
    facts: RiskFacts,
    month: dt.date,
    horizon: int,
    *,
    known_before: dt.date | None = None,
) -> pl.DataFrame:
    """``feats`` (``features_at`` of ``month``) with its ``label`` (0/1) and ``month`` columns."""
    lab = labels_at(facts, month, horizon, known_before=known_before)
    f = feats.join(lab, on="household_no", how="left", maintain_order="left")
    return f.with_columns(label=pl.col("label").fill_null(0), month=pl.lit(month))
