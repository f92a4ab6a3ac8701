"""Registry persons → Parquet for the engines (the only registry read the batch engines see).

Columns: person_id, household_id, village_code, village_name, name, name_pinyin, id_number, birth_date,
sex, is_exited (脱贫户), is_monitored (监测对象), is_labourer, household_labourers, is_main_earner,
disability_grade, and the registry facts departments state (death_date, disability_category, house_grade,
dibao, tekun, out_of_school; compared by ``SourceSpec.facts``), plus ``join_key`` = the blind index of the
ID (``Person.id_number_bidx``, what department batch files carry instead of the ID), or
"P<person_id>" for a person without one (so a probabilistic link to such a person joins on the same key),
and ``village_key``: the village name normalised as the registry importer matches it (高白塔村民委员会 →
高白塔), which linkage compares and blocks on.
Current members only (deceased or departed persons cannot produce new risks).
Who counts as labour (``is_labourer``: "the household's only labourer", main earner) is the policy
parameter ``screening.labour.skills_counted`` of each person's county and the run's year (default
技能/普通/弱劳动力; a county may leave 弱劳动力或半劳动力 out).
Main earner = the labourer with the most months of work in the household (household head first on a tie).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from django.conf import settings

from fangpin.registry.choices import HouseholdType, LabourSkill, Relation
from fangpin.registry.io.columns import normalize_village_name
from fangpin.registry.models import Person

from .integration import monitored_household_ids
from .sources.parse import name_pinyin

LABOUR_PARAM = "screening.labour.skills_counted"
LABOUR_DEFAULT = (LabourSkill.SKILLED, LabourSkill.ORDINARY, LabourSkill.WEAK)


def labour_skills(county: str, year: int | None) -> list[str]:
    """The 劳动技能 values that count as labour for screening in this county and year (policy)."""
    if year is None:
        return [str(x) for x in LABOUR_DEFAULT]
    from fangpin.policy.params import param_value

    return [str(x) for x in param_value(LABOUR_PARAM, region_code=county.ljust(12, "0"), year=year)]


def export_registry_persons(
    path: Path, *, on: dt.date, region_prefix: str = "", year: int | None = None
) -> int:
    """Writes the Parquet file; returns the number of persons. ``year``: the parameters' year (None =
    the shipped default definitions)."""
    qs = Person.objects.filter(is_member=True, death_date__isnull=True)
    if region_prefix:
        qs = qs.filter(household__village__code__startswith=region_prefix)
    rows = list(
        qs.values_list(
            "id",
            "household_id",
            "household__village_id",
            "household__village__name",
            "name",
            "id_number",
            "id_number_bidx",
            "birth_date",
            "gender",
            "household__household_type",
            "labour_skill",
            "work_months",
            "relation",
            "disability_grade",
            "death_date",
            "disability_category",
            "household__house_grade",
            "dibao",
            "tekun",
            "out_of_school",
        ).order_by("id")
    )
    monitored = monitored_household_ids(on)  # who is a monitoring object on the run's business date
    cols = [
        "person_id", "household_id", "village_code", "village_name", "name", "id_number", "id_bidx",
        "birth_date", "sex", "household_type", "labour_skill", "work_months", "relation", "disability_grade",
        "death_date", "disability_category", "house_grade", "dibao", "tekun", "out_of_school",
    ]  # fmt: skip
    df = pl.DataFrame(rows, schema=cols, orient="row", infer_schema_length=None).with_columns(
        pl.col("person_id").cast(pl.Int64),
        pl.col("household_id").cast(pl.Int64),
        pl.col("disability_grade").cast(pl.Int64),
        pl.col("birth_date").cast(pl.Date),
        pl.col("death_date").cast(pl.Date),
        pl.col("disability_category").cast(pl.String),
        pl.col("house_grade").cast(pl.String),
        pl.col("dibao").cast(pl.String),
        pl.col("tekun").cast(pl.String),
        pl.col("out_of_school").cast(pl.Boolean),
        pl.col("id_number").cast(pl.String),
        pl.col("id_bidx").cast(pl.String),
    )
    df = df.with_columns(id_bidx=pl.Series(_current_bidx(df["id_bidx"].to_list(), df["id_number"].to_list())))
    villages = {v: normalize_village_name(v or "") or None for v in df["village_name"].unique().to_list()}
    df = df.with_columns(
        name_pinyin=pl.col("name").map_elements(name_pinyin, return_dtype=pl.String),
        village_key=pl.col("village_name").replace_strict(villages, default=None, return_dtype=pl.String),
        is_exited=pl.col("household_type") == HouseholdType.EXITED,
        is_monitored=pl.col("household_id").is_in(list(monitored)),
        is_labourer=_is_labourer({str(r[2])[:6] for r in rows}, year),
        # the blind index of the ID, as department batch files store it (screening.protect)
        join_key=pl.coalesce(pl.col("id_bidx"), pl.lit("P") + pl.col("person_id").cast(pl.String)),
    )
    df = df.with_columns(
        household_labourers=pl.col("is_labourer").cast(pl.Int64).sum().over("household_id"),
        _rank=pl.struct(
            pl.col("is_labourer").cast(pl.Int64).alias("a"),
            pl.col("work_months").alias("b"),
            (pl.col("relation") == Relation.HEAD).cast(pl.Int64).alias("c"),
            (-pl.col("person_id")).alias("d"),
        ),
    )
    best = df.sort(["household_id", "_rank"], descending=[False, True]).group_by("household_id").first()
    earners = best.filter(pl.col("is_labourer")).select("person_id")
    df = df.with_columns(is_main_earner=pl.col("person_id").is_in(earners["person_id"].to_list()))
    out = df.select(
        "person_id", "household_id", "village_code", "village_name", "name", "name_pinyin", "id_number",
        "birth_date", "sex", "is_exited", "is_monitored", "is_labourer", "household_labourers",
        "is_main_earner", "disability_grade", "death_date", "disability_category", "house_grade", "dibao",
        "tekun", "out_of_school", "join_key", "village_key",
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    out.write_parquet(path)
    return out.height


def _current_bidx(stored: list[str | None], ids: list[str | None]) -> list[str | None]:
    """The stored blind index, or — for a row an index-key rotation has not reached yet — the digest under
    the current key (what batch files written now carry)."""
    from fangpin.core import crypto

    kid = crypto.keyring().index_current
    return [
        b if b is None or crypto.index_key_id(b) == kid else crypto.blind_index(i, "id_number")
        for b, i in zip(stored, ids, strict=True)
    ]


def _is_labourer(counties: set[str], year: int | None) -> pl.Expr:
    """Per county (its own definition), whether the person's 劳动技能 counts as labour."""
    by_county = {c: labour_skills(c, year) for c in sorted(counties)}
    distinct = {tuple(v) for v in by_county.values()}
    if len(distinct) <= 1:
        skills = list(next(iter(distinct))) if distinct else [str(x) for x in LABOUR_DEFAULT]
        return pl.col("labour_skill").is_in(skills)
    expr = pl.lit(False)
    for c, skills in by_county.items():
        expr = (
            pl.when(pl.col("village_code").str.slice(0, 6) == c)
            .then(pl.col("labour_skill").is_in(skills))
            .otherwise(expr)
        )
    return expr


def files_dir() -> Path:
    return Path(settings.FANGPIN_FILES_DIR) / "screening"
