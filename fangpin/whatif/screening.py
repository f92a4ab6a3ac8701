"""Screening thresholds in a what-if: the department screening rules (``fangpin.screening``) run read-only
over the department batches already uploaded, once with the thresholds in force and once with the
scenario's, to say which households each side flags (部门筛查预警).

The same pieces a screening run uses: the active ``ScreeningRule`` rows turned into engine specs by
``screening.services.runs.county_specs`` (per county above county level) with the parameters resolved by
the what-if's ``ParamSet`` instead of ``param_get``; the registry export ``export_registry_persons`` of the
business date; ``engine.pipeline.run_month`` (linkage of what the ID cannot match, then one fused query
per department, ``rules.compile_month``). Both sides go into one run (rule codes prefixed ``b|`` / ``s|``),
so each department file is scanned and linked once.

Read-only: no run row, no hit, no lead, no registry fact, no link review is written, no batch is marked
as screened. Links are decided as a run decides them (a reviewer's accepted or rejected decision counts,
a pending one does not, otherwise ``screening.linkage.accept_probability``); a link that would go to
review is not filed. Records: every record of the current version of each batch filed from January of the
business date's year up to its month (this year's screening so far), all treated as new — a cumulative
rule (住院自付 year to date) adds up the year's records. A hit of a rule that needs a 承诺授权书
(``consent_scope``) counts only for a household with one covering the rule's scope on the date."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace
from typing import Any

import pandas as pd
from django.conf import settings as dj

from .paramset import ParamSet

PREFIX_BASE, PREFIX_SCEN = "b|", "s|"


def screening_keys() -> dict[str, str]:
    """The numeric thresholds the active screening rules read, with the rule titles that use them."""
    from fangpin.screening.models import ScreeningRule

    out: dict[str, list[str]] = {}
    for r in ScreeningRule.objects.filter(active=True).order_by("code"):
        keys = [r.threshold_key] if r.threshold_key else []
        keys += [pc[k] for pc in r.person_conditions for k in ("min_key", "max_key") if pc.get(k)]
        for k in keys:
            out.setdefault(k, []).append(r.title)
    return {k: "；".join(v) for k, v in out.items()}


def _resolver(pset: ParamSet):
    def resolve(key: str, region_code: str, year: int) -> tuple[Any, dict[str, Any]]:
        row = pset.get(key, region_code=region_code, year=year)
        ref = {"key": key, "id": row["id"], "version": row["version"], "region": row["region_code"],
               "year": row["year"], "value": row["value"]}  # fmt: skip
        return row["value"], ref

    return resolve


def screening_flags(
    *,
    on: dt.date,
    region_prefix: str,
    baseline: ParamSet,
    scenario: ParamSet,
    memo: dict[Any, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per household with a hit on either side: ``screened_base`` / ``screened_scen`` (bool) and
    ``screen_rules_base`` / ``screen_rules_scen`` (rule codes, sorted); plus what was screened (batches,
    rules with their thresholds on each side, timings). ``memo`` (a snapshot's): the same rules, thresholds
    and batch versions on the same date are not screened again."""
    from fangpin.screening.engine import engine_open
    from fangpin.screening.engine.pipeline import LinkPolicy, run_month
    from fangpin.screening.models import ScreeningRule
    from fangpin.screening.registry_export import export_registry_persons, files_dir
    from fangpin.screening.services.consent import hits_without_consent
    from fangpin.screening.services.runs import _review_decider, county_specs
    from fangpin.screening.services.uploads import batch_abspath, batches_for_month
    from fangpin.screening.sources import SOURCES

    year, month = on.year, f"{on:%Y-%m}"
    region_code = region_prefix.ljust(12, "0")[:12]
    rules = list(ScreeningRule.objects.filter(active=True).order_by("code"))
    sides = {}
    for prefix, pset in ((PREFIX_BASE, baseline), (PREFIX_SCEN, scenario)):
        specs, refs, _ = county_specs(region_prefix, region_code, rules, year, resolve=_resolver(pset))
        sides[prefix] = (specs, refs)
    specs = [replace(sp, code=p + sp.code) for p, (ss, _) in sides.items() for sp in ss]
    kinds = sorted({sp.source for sp in specs})
    batches = [
        b for b in batches_for_month(month, kinds=kinds, earliest=dt.date(year, 1, 1)) if b.parquet_path
    ]
    info: dict[str, Any] = {
        "month": month,
        "batches": [{"id": b.pk, "kind": b.kind, "period": b.period, "version": b.version} for b in batches],
        "thresholds": {p: {r["key"]: r["value"] for r in refs} for p, (_, refs) in sides.items()},
        "timings": {},
    }
    key = ("screening", on, region_prefix, repr(specs), tuple((b.pk, b.version) for b in batches))
    if memo is not None and key in memo:
        return memo[key][0], {**info, "timings": memo[key][1]}
    empty = pd.DataFrame(columns=["screened_base", "screened_scen", "screen_rules_base", "screen_rules_scen"])
    if not batches:
        return empty, info
    sources: dict[str, list[str]] = {}
    for b in batches:
        sources.setdefault(b.kind, []).append(str(batch_abspath(b)))
    ranges = {
        k: (min(b.event_min for b in bs), max(b.event_max for b in bs))
        for k in kinds
        if (bs := [b for b in batches if b.kind == k and b.event_min and b.event_max])
    }
    from fangpin.policy.params import param_value

    accept = float(param_value("screening.linkage.accept_probability", region_code=region_code, year=year))
    review = float(param_value("screening.linkage.review_probability", region_code=region_code, year=year))
    link = LinkPolicy(
        enabled=True, review_probability=review, accept_probability=accept,
        link_valid_unmatched={k: SOURCES[k].link_unmatched_valid_ids for k in kinds},
        decide=_review_decider(None, accept, review, file_reviews=False),
    )  # fmt: skip
    persons_path = files_dir() / "registry" / f"whatif_{secrets.token_hex(6)}.parquet"
    persons_path.parent.mkdir(parents=True, exist_ok=True)
    eng = engine_open("duckdb", memory_limit=dj.FANGPIN_DUCKDB_MEMORY_LIMIT)
    try:
        export_registry_persons(persons_path, on=on, region_prefix=region_prefix, year=year)
        res = run_month(
            eng, month=month, persons_path=str(persons_path), sources=sources, rules=specs, link=link,
            new_batches=None, new_ranges=ranges,
        )  # fmt: skip
    finally:
        eng.close()
        persons_path.unlink(missing_ok=True)  # clear ID numbers: only as long as the computation
    info["timings"] = res.timings
    # a rule that needs a 承诺授权书: a household without one is not flagged (a run makes no lead of it)
    by_code = {r.code: r for r in rules}
    hits = res.hits
    drop: set[int] = set()
    for code, rule in by_code.items():
        if not rule.consent_scope:
            continue
        idx = [i for i, h in enumerate(hits) if h["rule_code"].split("|", 1)[1] == code]
        mine = [_Hit(hits[i]) for i in idx]
        drop |= {idx[j] for j in hits_without_consent(mine, rule.consent_scope, on=on)}
    rows: dict[int, dict[str, set[str]]] = {}
    for i, h in enumerate(hits):
        if i in drop:
            continue
        side, code = h["rule_code"].split("|", 1)
        rows.setdefault(int(h["household_id"]), {"b": set(), "s": set()})[side].add(code)
    if not rows:
        out = empty
    else:
        out = pd.DataFrame(
            {
                "screened_base": [bool(r["b"]) for r in rows.values()],
                "screened_scen": [bool(r["s"]) for r in rows.values()],
                "screen_rules_base": [sorted(r["b"]) for r in rows.values()],
                "screen_rules_scen": [sorted(r["s"]) for r in rows.values()],
            },
            index=pd.Index(list(rows), name="household_id"),
        )
    if memo is not None:
        memo[key] = (out, res.timings)
    return out, info


class _Hit:
    """What ``hits_without_consent`` reads of a hit (household, department; no record: the rule's scope)."""

    def __init__(self, h: dict[str, Any]) -> None:
        self.household_id = int(h["household_id"])
        self.source = h["source"]
        self.evidence: dict[str, Any] = {}
