"""Screening runs: start (fast, returns at once), execute (the Huey task body), save hits, push leads."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import duckdb
import pandas as pd
from django.conf import settings
from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.crypto import keyed_digest
from fangpin.core.errors import DomainError
from fangpin.core.masking import mask_record
from fangpin.policy.params import param_value
from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household, Person

from .. import integration
from ..engine import engine_open
from ..engine.pipeline import LinkPolicy, run_month, typed_id
from ..engine.rules import RuleSpec, month_bounds, window_bounds
from ..models import DeptBatch, LinkReview, ReviewStatus, RunStatus, ScreeningHit, ScreeningRule, ScreeningRun
from ..protect import reveal, rewrite_current
from ..registry_export import export_registry_persons, files_dir
from ..sources import SOURCES
from .consent import CONSENT_MISSING, hits_without_consent
from .facts import department_facts_record
from .rules import rule_specs, ruleset_version
from .uploads import batch_abspath

logger = logging.getLogger(__name__)

E_MONTH = "screening_month_invalid"
E_ENGINE = "screening_engine_invalid"
E_NO_REGION = "screening_no_region"
E_DEPT = "screening_department_invalid"
ENGINES = ("duckdb", "spark")


def default_run_date(month: str, today: dt.date) -> dt.date:
    """The business date an edge (view, command, job) gives a run of ``month`` when none is stated: the
    month's last day, or ``today`` when that is earlier."""
    return min(month_bounds(month)[1], today)


def screening_run_start(
    *,
    actor,
    month: str,
    engine: str | None = None,
    departments: list[str] | None = None,
    run_now: bool = True,
    background: bool = False,
    record_facts: bool = True,
    on: dt.date,
) -> ScreeningRun:
    """Create a run for the actor's region and execute it at once (``run_now``), or queue it for the
    Huey worker (``background=True``, e.g. from a web request), or leave it for the caller
    (``run_now=False``). A run screens every department record not screened before (whatever month its
    file was filed under, up to ``month``), exactly once. ``record_facts=False`` is a what-if run: no
    registry facts go to the conflict policy and the batches stay unscreened (comparing engines).
    ``on``: the run's business date (leads and registry facts are dated by it; the edges default it to
    the end of ``month``, or today when that is earlier: ``default_run_date``)."""
    require(actor, Cap.SCREEN_RUN)
    if not re.fullmatch(r"20\d{2}-(0[1-9]|1[0-2])", month or ""):
        raise DomainError(E_MONTH, f"筛查月份“{month}”格式错误，应为 YYYY-MM", field="month")
    engine = engine or settings.FANGPIN_BATCH_ENGINE
    if engine not in ENGINES:
        raise DomainError(E_ENGINE, f"不支持的计算引擎“{engine}”（可选 duckdb、spark）", field="engine")
    bad = [d for d in departments or [] if d not in SOURCES]
    if bad:
        raise DomainError(E_DEPT, f"未知的部门数据类型：{'、'.join(bad)}", field="departments")
    if actor.region_id is None:
        raise DomainError(E_NO_REGION, "当前用户没有管辖区域，不能运行筛查")
    with transaction.atomic():
        as_of = on
        run = ScreeningRun.objects.create(
            month=month, region_id=actor.region_id, engine=engine, departments=list(departments or []),
            started_by=actor, progress_note="排队中", record_facts=record_facts, as_of=as_of,
        )  # fmt: skip
        audit_record(
            actor=actor, event_type="screening.run_start", obj=run, region_code=actor.region_id,
            data={"month": month, "engine": engine, "departments": run.departments, "record_facts": record_facts},
        )  # fmt: skip
    if background:
        from ..tasks import screening_run_task

        screening_run_task(run.pk)  # enqueued; the worker runs screening_run_execute
    elif run_now:
        try:
            screening_run_execute(run.pk)
        except Exception:  # stored on the run (status 失败, error); the caller reads the run
            logger.exception("screening run %s failed", run.pk)
        run.refresh_from_db()
    return run


def _progress(run: ScreeningRun, note: str, pct: int) -> None:
    ScreeningRun.objects.filter(pk=run.pk).update(progress=pct, progress_note=note)


def fingerprint(source: str, row: dict[str, Any]) -> str:
    parts = [source] + [str(row.get(k) or "") for k in ("id_number", "name", "birth_date", "sex", "village")]
    return keyed_digest("screening.link", "|".join(parts))


def _review_decider(run: ScreeningRun | None, accept: float, review: float, *, file_reviews: bool = True):
    """Reuses reviewers' decisions; files new uncertain links into the review queue (``file_reviews=False``,
    a what-if: decides the same way and files nothing)."""

    def decide(scored: pd.DataFrame) -> pd.DataFrame:
        keep = []
        scored = scored.copy()
        scored["fp"] = [
            fingerprint(s, r) for s, r in zip(scored["source"], scored.to_dict("records"), strict=True)
        ]
        decided = {
            (r.fingerprint, r.candidate_id): r.status
            for r in LinkReview.objects.filter(fingerprint__in=list(scored["fp"]))
        }
        accepted_for = {fp: pid for (fp, pid), st in decided.items() if st == ReviewStatus.ACCEPTED}
        new_reviews = []
        for row in scored.to_dict("records"):
            fp, pid, p = row["fp"], int(row["person_id"]), float(row["match_probability"])
            if fp in accepted_for:
                keep.append({"uid_a": row["uid_a"], "person_id": accepted_for[fp], "match_probability": p})
            elif decided.get((fp, pid)) in (ReviewStatus.REJECTED, ReviewStatus.PENDING):
                continue
            elif p >= accept:
                keep.append({"uid_a": row["uid_a"], "person_id": pid, "match_probability": p})
            elif p >= review:
                rec = {k: (None if pd.isna(row.get(k)) else str(row.get(k))) for k in
                       ("id_number", "name", "birth_date", "sex", "village")}  # fmt: skip
                new_reviews.append(
                    LinkReview(
                        source=row["source"],
                        fingerprint=fp,
                        record=mask_record(rec),
                        candidate_id=pid,
                        probability=p,
                        agreeing=row["agreeing"],
                        first_run=run,
                    )  # fmt: skip
                )
        if file_reviews:
            LinkReview.objects.bulk_create(new_reviews, ignore_conflicts=True)
        return pd.DataFrame(keep, columns=["uid_a", "person_id", "match_probability"])

    return decide


def screening_run_execute(run_id: int) -> ScreeningRun:
    """The work of a run (called by the Huey task). Failures are stored on the run, then re-raised."""
    run = ScreeningRun.objects.select_related("started_by").get(pk=run_id)
    ScreeningRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=clock.now(), progress=1
    )
    t0 = time.perf_counter()
    try:
        _execute(run)
    except Exception as exc:
        DeptBatch.objects.filter(screened_run=run).update(screened_run=None)  # screened by a later run
        ScreeningRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000], finished_at=clock.now()
        )
        raise
    finally:
        logger.info("screening run %s took %.1fs", run.pk, time.perf_counter() - t0)
    run.refresh_from_db()
    return run


def _claim_batches(run: ScreeningRun, kinds: list[str]) -> list[DeptBatch]:
    """The batches this run screens: every batch of these kinds not screened before, filed up to the run's
    month, in its current version (an unscreened superseded version is marked as screened with it, so it
    never comes back). A what-if run (record_facts=False) claims nothing and leaves them unscreened."""
    with transaction.atomic():
        todo = list(
            DeptBatch.objects.select_for_update()
            .filter(kind__in=kinds, screened_run__isnull=True, period__lte=run.month)
            .order_by("kind", "period", "-version")
        )
        latest = {}
        for b in DeptBatch.objects.filter(kind__in=kinds, period__lte=run.month).order_by(
            "kind", "period", "version"
        ):
            latest[(b.kind, b.period)] = b.pk
        # a batch whose file the retention purge deleted (parquet_path "") is not screened any more
        new = [b for b in todo if latest.get((b.kind, b.period)) == b.pk and b.parquet_path]
        if run.record_facts:
            DeptBatch.objects.filter(pk__in=[b.pk for b in todo]).update(screened_run=run)
    return new


def _lookback_batches(new: list[DeptBatch], specs: list[RuleSpec]) -> list[DeptBatch]:
    """Batches screened before whose records a cumulative rule adds up (its own look-back window)."""
    starts: dict[str, dt.date] = {}
    for k in {b.kind for b in new}:
        lo = min((b.event_min for b in new if b.kind == k and b.event_min), default=None)
        cum = [
            r for r in specs if r.source == k and r.window != "month" and r.condition_kind == "sum_at_least"
        ]
        if lo is None or not cum:
            continue
        starts[k] = min(dt.date(lo.year, 1, 1) if r.window == "year_to_date" else
                        window_bounds(r, f"{lo:%Y-%m}")[0] for r in cum)  # fmt: skip
    out = []
    new_ids = {b.pk for b in new}
    for k, start in starts.items():
        seen: set[str] = set()
        for b in (
            DeptBatch.objects.filter(kind=k, screened_run__isnull=False, event_max__gte=start)
            .exclude(pk__in=new_ids)
            .exclude(parquet_path="")  # purged by retention (core.retention)
            .order_by("period", "-version")
        ):
            if b.period not in seen and not any(n.kind == k and n.period == b.period for n in new):
                seen.add(b.period)
                out.append(b)
    return out


def _seen_versions(new: list[DeptBatch]) -> dict[str, list[str]]:
    """Per department, the screened earlier versions of the new batches (a correction repeats records)."""
    out: dict[str, list[str]] = defaultdict(list)
    for b in new:
        for old in DeptBatch.objects.filter(
            kind=b.kind, period=b.period, version__lt=b.version, screened_run__isnull=False
        ):
            if old.parquet_path:  # purged by retention: nothing to compare with
                rewrite_current(batch_abspath(old))  # row hashes under the current key, as the new file's
                out[b.kind].append(str(batch_abspath(old)))
    return dict(out)


def _county_specs(run: ScreeningRun, rules: list[ScreeningRule], year: int):
    return county_specs(run.region.prefix, run.region_id, rules, year)


def county_specs(
    prefix: str,
    region_code: str,
    rules: list[ScreeningRule],
    year: int,
    resolve: Callable[[str, str, int], tuple[Any, dict[str, Any]]] | None = None,
) -> tuple[list[RuleSpec], list[dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
    """Rule specs and parameter refs. A run above county level (a city or province) resolves each
    county's own parameters: counties with the same values share one instance of a rule, which applies
    to their persons only. ``resolve``: as in ``rule_specs`` (a what-if's parameter set)."""
    if len(prefix) >= 6:
        specs, refs = rule_specs(rules, region_code=region_code, year=year, resolve=resolve)
        return specs, refs, {prefix[:6]: {r["key"]: r for r in refs}}
    counties = list(
        Region.objects.filter(level=Level.COUNTY, code__startswith=prefix).values_list("code", flat=True)
    )
    groups: dict[str, tuple[RuleSpec, list[str]]] = {}
    refs_all: dict[tuple, dict] = {}
    refs_by_county: dict[str, dict[str, dict]] = {}
    for code in counties:
        specs, refs = rule_specs(rules, region_code=code, year=year, resolve=resolve)
        refs_by_county[code[:6]] = {r["key"]: r for r in refs}
        for r in refs:
            refs_all[(r["key"], str(r.get("value")), r.get("region_code"))] = r
        for sp in specs:
            key = repr((sp.code, sp.threshold, sp.condition, sp.values))
            groups.setdefault(key, (sp, []))[1].append(code[:6])
    specs = [replace(sp, counties=tuple(cs)) for sp, cs in groups.values()]
    return specs, list(refs_all.values()), refs_by_county


def _execute(run: ScreeningRun) -> None:
    timings: dict[str, float] = {}
    t = time.perf_counter()
    rules = list(ScreeningRule.objects.filter(active=True).order_by("code"))
    if run.departments:
        rules = [r for r in rules if r.source in run.departments]
    year = int(run.month[:4])
    specs, refs, refs_by_county = _county_specs(run, rules, year)
    accept = float(param_value("screening.linkage.accept_probability", region_code=run.region_id, year=year))
    review = float(param_value("screening.linkage.review_probability", region_code=run.region_id, year=year))
    fact_kinds = {k for k, s in SOURCES.items() if s.facts and (not run.departments or k in run.departments)}
    kinds = sorted({s.source for s in specs} | fact_kinds)
    new = _claim_batches(run, kinds)
    old = _lookback_batches(new, specs)
    batches = new + old
    _progress(run, "导出建档立卡人员", 5)
    persons_path = files_dir() / "registry" / f"run_{run.pk}.parquet"
    n_persons = export_registry_persons(
        persons_path, on=run.as_of, region_prefix=run.region.prefix, year=year
    )
    timings["export_registry"] = round(time.perf_counter() - t, 3)
    sources: dict[str, list[str]] = defaultdict(list)
    for b in batches:
        # a file left under an older index key (rotation not yet run) or from before protection: rewritten
        # now, or its IDs would match nobody
        rewrite_current(batch_abspath(b))
        sources[b.kind].append(str(batch_abspath(b)))
    new_batches = {k: [b.pk for b in new if b.kind == k] for k in kinds}
    new_ranges = {
        k: (min(b.event_min for b in bs), max(b.event_max for b in bs))
        for k in kinds
        if (bs := [b for b in new if b.kind == k and b.event_min and b.event_max])
    }
    link = LinkPolicy(
        enabled=True, review_probability=review, accept_probability=accept,
        link_valid_unmatched={k: SOURCES[k].link_unmatched_valid_ids for k in kinds},
        decide=_review_decider(run, accept, review),
    )  # fmt: skip
    eng = engine_open(run.engine, memory_limit=settings.FANGPIN_DUCKDB_MEMORY_LIMIT)
    try:
        res = run_month(
            eng, month=run.month, persons_path=str(persons_path), sources=dict(sources), rules=specs,
            link=link, progress=lambda note, pct: _progress(run, note, pct),
            facts={k: SOURCES[k].facts for k in fact_kinds}, fact_batches=new_batches,
            new_batches=new_batches, new_ranges=new_ranges, seen=_seen_versions(new),
        )  # fmt: skip
    finally:
        eng.close()
        # the run's registry extract holds clear ID numbers: it lives only as long as the run
        persons_path.unlink(missing_ok=True)
    timings.update(res.timings)
    t = time.perf_counter()
    _progress(run, "保存命中并推送线索", 96)
    link_prob = res.linked
    evidence_rows = _evidence_records(
        [str(batch_abspath(b)) for b in batches], [h["record_key"] for h in res.hits]
    )
    by_code = {r.code: r for r in rules}
    with transaction.atomic():
        leads_per_rule, consent_missing = _save_hits(
            run, res.hits, by_code, refs_by_county, link_prob, evidence_rows, res.agreeing
        )
    timings["save_hits"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    # Facts after the leads: each goes through trust's door in its own transaction (it may remove a member).
    if run.record_facts:
        _progress(run, "部门事实与户档案比对", 98)
        facts_report = department_facts_record(run=run, facts=res.facts, linked=link_prob)
    else:
        facts_report = {"differing": len(res.facts), "recorded": 0, "not_recorded": "record_facts=False"}
    timings["facts"] = round(time.perf_counter() - t, 3)
    with transaction.atomic():
        counts = {
            "registry_persons": n_persons,
            "departments": res.counts,
            "leads_per_rule": leads_per_rule,
            "consent_missing_per_rule": consent_missing,
            "facts": facts_report,
            "hits": len(res.hits),
            "hits_per_rule": {code: sum(1 for h in res.hits if h["rule_code"] == code) for code in by_code},
            "batches_new": [b.pk for b in new],
            "batches_lookback": [b.pk for b in old],
            "link_reviews_pending": LinkReview.objects.filter(
                first_run=run, status=ReviewStatus.PENDING
            ).count(),
        }
        ScreeningRun.objects.filter(pk=run.pk).update(
            status=RunStatus.DONE, progress=100, progress_note="完成", finished_at=clock.now(),
            ruleset_version=ruleset_version(rules), rules=[_rule_snapshot(r) for r in rules], params=refs,
            batches=[{"id": b.pk, "kind": b.kind, "period": b.period, "version": b.version,
                      "new": b in new} for b in batches],
            counts=counts, timings=timings,
        )  # fmt: skip
        audit_record(
            actor=run.started_by, event_type="screening.run_done", obj=run, region_code=run.region_id,
            data={"hits": len(res.hits), "leads_per_rule": leads_per_rule, "ruleset": ruleset_version(rules),
                  "consent_missing": sum(consent_missing.values()),
                  "facts": {k: v for k, v in facts_report.items() if k != "by_field"}},
        )  # fmt: skip


def _county_refs(refs_by_county: dict[str, dict], household: Household) -> dict:
    return refs_by_county.get(household.village_id[:6]) or next(iter(refs_by_county.values()), {})


def _rule_snapshot(r: ScreeningRule) -> dict[str, Any]:
    return {"code": r.code, "version": r.version, "source": r.source, "title": r.title,
            "threshold_key": r.threshold_key, "applies_to": r.applies_to,
            "consent_scope": r.consent_scope}  # fmt: skip


def _evidence_records(paths: list[str], keys: list[int]) -> dict[int, dict[str, Any]]:
    """The decisive department record of each hit, read back from the batch Parquet files."""
    if not keys or not paths:
        return {}
    con = duckdb.connect()
    try:
        con.register("k", pd.DataFrame({"record_key": sorted(set(keys))}))
        files = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
        df = con.sql(
            f"SELECT b.* EXCLUDE (name_pinyin) FROM read_parquet([{files}], union_by_name = true) b "
            f"SEMI JOIN k USING (record_key)"
        ).df()
    finally:
        con.close()
    out = {}
    for row in df.to_dict("records"):
        rec = {k: (None if pd.isna(v) else (v.isoformat() if hasattr(v, "isoformat") else v))
               for k, v in row.items()}  # fmt: skip
        # the file holds the ID's blind index and the ID as typed sealed (screening.protect): the evidence
        # (masked when stored) shows the ID again
        rec["id_raw"] = reveal(rec.get("id_raw"))
        rec["id_number"] = typed_id(rec["id_raw"]) if rec.get("id_status") == "ok" else None
        out[int(row["record_key"])] = rec
    return out


def _save_hits(
    run, hits, by_code, refs_by_county, link_prob, evidence_rows, agreeing
) -> tuple[dict[str, int], dict[str, int]]:
    """Saves the hits, flags those that need a 承诺授权书 the household has not signed, and pushes one lead
    per (household, rule) for the others. Returns leads per rule and consent-missing hits per rule."""
    persons = Person.objects.in_bulk({h["person_id"] for h in hits})
    households = Household.objects.in_bulk({h["household_id"] for h in hits})
    objs = []
    for h in hits:
        rule = by_code[h["rule_code"]]
        rec = evidence_rows.get(h["record_key"], {})
        linked_p = link_prob.get(h["record_key"])
        objs.append(
            ScreeningHit(
                run=run,
                rule=rule,
                rule_code=rule.code,
                source=rule.source,
                person=persons[h["person_id"]],
                household=households[h["household_id"]],
                value=h["value"],
                threshold=h["threshold"],
                match_method="linkage" if linked_p is not None else "id",
                match_probability=1.0 if linked_p is None else linked_p,
                evidence={
                    "rule": rule.code,
                    "rule_title": rule.title,
                    "department": SOURCES[rule.source].title,
                    "value": h["value"],
                    "threshold": h["threshold"],
                    "records": h["records"],
                    "first_date": str(h["first_date"]),
                    "last_date": str(h["last_date"]),
                    "record": mask_record(rec),
                    "batch_row": f"部门批次#{rec.get('batch_id')} 第{rec.get('row_no')}行" if rec else "",
                    "param": _county_refs(refs_by_county, households[h["household_id"]]).get(
                        rule.threshold_key
                    ),
                    "match": {
                        "method": "linkage" if linked_p is not None else "id",
                        "probability": linked_p,
                        "agreeing": agreeing.get(h["record_key"], {}),
                    },
                },
            )  # fmt: skip
        )
    consent_missing: dict[str, int] = {}
    today = run.as_of
    for code, rule in by_code.items():
        if not rule.consent_scope:
            continue
        mine = [o for o in objs if o.rule_code == code]
        for i in hits_without_consent(mine, rule.consent_scope, on=today):
            mine[i].consent_missing, mine[i].lead_result = True, CONSENT_MISSING
            mine[i].evidence["consent"] = {"scope": rule.consent_scope, "checked_on": today.isoformat(),
                                           "note": "该户无覆盖此范围的有效承诺授权书，比对结果仅作标记，不推送线索"}  # fmt: skip
        consent_missing[code] = sum(1 for o in mine if o.consent_missing)
    ScreeningHit.objects.bulk_create(objs, batch_size=1000)
    # One lead per (household, rule): lead_submit dedups per household across rules and channels.
    groups: dict[tuple[int, str], list[ScreeningHit]] = defaultdict(list)
    for o in objs:
        if not o.consent_missing:
            groups[(o.household_id, o.rule_code)].append(o)
    leads_per_rule: dict[str, int] = {code: 0 for code in by_code}
    for (_hh, code), hs in groups.items():
        rule = by_code[code]
        lead_id, result = integration.submit_lead(
            actor=run.started_by,
            household=hs[0].household,
            source_ref=f"screening_run:{run.pk}:rule:{code}",
            evidence={
                "rule": code,
                "title": rule.title,
                "hits": [h.evidence for h in hs],
                "persons": [h.person_id for h in hs],
            },  # fmt: skip
            risk_types=list(rule.risk_types),
            note=rule.title,
            on=today,
        )
        ScreeningHit.objects.filter(pk__in=[h.pk for h in hs]).update(lead_id=lead_id, lead_result=result)
        if lead_id is not None:
            leads_per_rule[code] += 1
    return leads_per_rule, consent_missing
