"""The what-if service: a baseline parameter set and a scenario applied to the same snapshot, compared
per township — households and persons flagged by the income rule (监测范围), entering and leaving
monitoring, eligible for elimination — with coverage and leakage against the current monitoring list and
the households whose judgement changes. It changes nothing: the only row it writes is its audit event, a
read (``whatif.view``)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.policy.models import Parameter
from fangpin.regions.models import Region

from .evaluate import evaluate
from .paramset import KEYS, SCREENING_KEYS, Override, ParamSet, scenario
from .snapshot import Snapshot, snapshot_build

MEASURES: dict[str, str] = {
    "flagged": "纳入监测范围（收入低于监测收入线）",
    "enter": "将新纳入监测",
    "leave": "将退出监测（渐退期结束）",
    "eligible": "符合风险消除条件",
    "missing": "收入数据不完整",
}
# present when the comparison ran the department screening rules (a screening threshold in the scenario,
# or asked for): households with a hit of an active rule on the uploaded batches (``whatif.screening``)
SCREENED = {"screened": "部门筛查预警（命中筛查规则）"}
E_EMPTY = "whatif_no_change"


@dataclass
class Comparison:
    on: dt.date
    region_prefix: str
    baseline: ParamSet
    scenario: ParamSet
    base: pd.DataFrame
    scen: pd.DataFrame
    rows: list[dict[str, Any]] = field(default_factory=list)  # per township, then the total
    changed: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    screening: dict[str, Any] | None = None  # what the screening rules ran over (batches, thresholds)
    snapshot: dict[str, Any] = field(default_factory=dict)  # which snapshot: business date, built at, stamp

    @property
    def measures(self) -> dict[str, str]:
        return {**MEASURES, **SCREENED} if "screened" in self.base.columns else dict(MEASURES)

    @property
    def total(self) -> dict[str, Any]:
        return self.rows[-1]

    def households(
        self, measure: str, *, which: str = "scen", township: str | None = None
    ) -> list[dict[str, Any]]:
        """A drill-down list: the households behind one number (``which``: base / scen)."""
        if measure not in self.measures:
            raise DomainError("whatif_measure_unknown", f"没有指标“{measure}”", field="measure")
        df = self.base if which == "base" else self.scen
        sel = df[df[measure].astype(bool)]
        if township:
            sel = sel[sel["township_id"] == township]
        sel = sel.sort_values("household_no")
        extra = ["screen_rules"] if "screen_rules" in sel.columns else []
        rows = _records(sel, [*ROW_COLS, "category", "monitored", "eligible", *extra])
        return [_row(h, r) for h, r in zip(sel.index, rows, strict=True)]


def _row(h: int, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "household_id": int(h),
        "household_no": r["household_no"],
        "head": r["head"],
        "village_id": r["village_id"],
        "township_id": r["township_id"],
        "members": int(r["members"]),
        "per_capita": None if r["missing"] else float(r["per_capita"]),
        "per_capita_after_rigid": None if r["missing"] else float(r["per_capita_after_rigid"]),
        "line": float(r["line"]),
        "category": r["category"],
        "monitored": bool(r["monitored"]),
        "eligible": bool(r["eligible"]),
        "refusals": list(r["refusals"] or []) if r["object_active"] else [],
        **({"screen_rules": list(r["screen_rules"])} if "screen_rules" in r else {}),
    }


def _counts_by(
    df: pd.DataFrame, key: pd.Series | None, measures: dict[str, str] = MEASURES
) -> dict[str, dict[str, Any]]:
    """Households and persons per measure, coverage and leakage — per township (``key``) or in total."""
    cols = ["current", *measures]
    flags = np.column_stack([df[m].fillna(False).to_numpy(bool) for m in cols])
    members = df["members"].fillna(0).to_numpy().astype(np.int64)
    fl = cols.index("flagged")
    hit = flags[:, fl] & flags[:, 0]  # flagged ∩ current
    leak = flags[:, fl] & ~flags[:, 0]
    if key is None:
        codes, groups = np.zeros(len(df), dtype=np.int64), [""]
    else:
        codes, uniq = pd.factorize(key, sort=True)
        groups = list(uniq)
    n = len(groups)

    def per(x: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=x, minlength=n).astype(np.int64)

    out = {}
    hh = [per(flags[:, i]) for i in range(len(cols))]
    pp = [per(flags[:, i] * members) for i in range(len(cols))]
    hits, leaks = per(hit), per(leak)
    for g, code in enumerate(groups):
        d: dict[str, Any] = {
            m: {"households": int(hh[i][g]), "persons": int(pp[i][g])} for i, m in enumerate(cols)
        }
        n_cur, n_flag = int(hh[0][g]), int(hh[fl][g])
        d["coverage"] = round(int(hits[g]) / n_cur, 4) if n_cur else None
        d["leakage"] = round(int(leaks[g]) / n_flag, 4) if n_flag else None
        out[code] = d
    return out


def _records(df: pd.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    """``df[cols].to_dict("records")`` column by column (Arrow strings are slow to box one cell at a time)."""
    values = [df[c].tolist() for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def _counts(df: pd.DataFrame, measures: dict[str, str] = MEASURES) -> dict[str, Any]:
    return _counts_by(df, None, measures)[""]


def _township_names(codes: list[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))


JUDGEMENTS = ("flagged", "category", "monitored", "eligible")
# the columns ``_row`` and ``_describe`` read
ROW_COLS = ("household_no", "head", "village_id", "township_id", "members", "per_capita",
            "per_capita_after_rigid", "line", "missing", "object_active", "refusals")  # fmt: skip


def _describe(r: dict[str, Any]) -> str:
    parts = []
    if r["missing"]:
        parts.append("收入数据不完整")
    else:
        parts.append(f"人均{r['per_capita']:,.2f}元/线{r['line']:,.0f}元")
        parts.append(r["category"] or "不在监测范围")
    if r["monitored"]:
        parts.append("监测对象")
    if r["object_active"]:
        parts.append("可消除" if r["eligible"] else "不可消除")
    if r.get("screen_rules"):
        parts.append("部门筛查命中" + "、".join(r["screen_rules"]))
    return "，".join(parts)


def compare(
    snap: Snapshot,
    baseline: ParamSet,
    scen: ParamSet,
    *,
    township_names: dict[str, str] | None = None,
    screening: pd.DataFrame | None = None,
) -> Comparison:
    """``screening``: per household the screening flags of both sides (``screening.screening_flags``);
    the comparison then also counts and lists the households the screening rules flag."""
    t = time.perf_counter()
    base = evaluate(snap, baseline)
    t_base = time.perf_counter() - t
    t = time.perf_counter()
    new = evaluate(snap, scen)
    t_scen = time.perf_counter() - t
    judgements = JUDGEMENTS
    if screening is not None:
        # the evaluations are shared (memoised): the flags go on copies
        sc = screening.reindex(base.index)
        empty = pd.Series([[] for _ in range(len(base))], index=base.index, dtype=object)
        base = base.assign(
            screened=sc["screened_base"].fillna(False).astype(bool).to_numpy(),
            screen_rules=sc["screen_rules_base"].where(sc["screen_rules_base"].notna(), empty),
        )
        new = new.assign(screened=sc["screened_scen"].fillna(False).astype(bool).to_numpy(),
                         screen_rules=sc["screen_rules_scen"].where(sc["screen_rules_scen"].notna(), empty))  # fmt: skip
        judgements = (*JUDGEMENTS, "screened")
    c = Comparison(snap.on, snap.region_prefix, baseline, scen, base, new)
    c.snapshot = {"on": snap.on.isoformat(), "built_at": snap.built_at, "stamp": snap.stamp}
    measures = c.measures
    codes = sorted(base["township_id"].unique())
    names = township_names if township_names is not None else _township_names(codes)
    by_b = _counts_by(base, base["township_id"], measures)
    by_s = _counts_by(new, new["township_id"], measures)
    for code in codes:
        c.rows.append(
            {"township": code, "name": names.get(code, code), "base": by_b[code], "scen": by_s[code]}
        )
    c.rows.append(
        {"township": "", "name": "合计", "base": _counts(base, measures), "scen": _counts(new, measures)}
    )
    diff = np.zeros(len(base), dtype=bool)
    for k in judgements:
        a, b = base[k], new[k].reindex(base.index)
        same = (a == b).fillna(False).to_numpy(bool) | (a.isna() & b.isna()).to_numpy(bool)
        diff |= ~same
    idx = base.index[diff]
    cols = [*ROW_COLS, *judgements, *(["screen_rules"] if screening is not None else [])]
    for h, b, s in zip(idx, _records(base.loc[idx], cols), _records(new.loc[idx], cols), strict=True):
        c.changed.append(
            {
                **_row(h, s),
                "before": _describe(b),
                "after": _describe(s),
                "what": [k for k in judgements if b[k] != s[k]],
            }
        )
    c.changed.sort(key=lambda r: r["household_no"])
    c.timings = {"baseline": round(t_base, 3), "scenario": round(t_scen, 3)}
    return c


def _audit(actor, c: Comparison, *, kind: str, extra: dict[str, Any] | None = None) -> None:
    audit_record(
        actor=actor,
        event_type="whatif.view",
        region_code=c.region_prefix,
        data={
            "read": True,
            "kind": kind,
            "on": c.on.isoformat(),
            "baseline": c.baseline.label,
            "scenario": c.scenario.describe(),
            "changed_households": len(c.changed),
            "snapshot": c.snapshot,
            "totals": {"base": c.total["base"], "scen": c.total["scen"]},
            **({"screening_batches": [b["id"] for b in c.screening["batches"]]} if c.screening else {}),
            **(extra or {}),
        },
    )


def whatif_run(
    *,
    actor,
    on: dt.date,
    settings: dict[str, Any],
    year: int | None = None,
    region_prefix: str | None = None,
    snapshot: Snapshot | None = None,
    screening: bool | None = None,
) -> Comparison:
    """Current parameters against ``settings`` ({key: "+10%" | value}) taking effect in ``year``
    (default: the year of ``on``) for the actor's region, on business date ``on``. Changes nothing.
    ``screening``: also run the department screening rules on both sides (default: when ``settings`` sets
    a screening threshold, ``paramset.SCREENING_KEYS``)."""
    require(actor, Cap.REGISTRY_VIEW)
    if not settings:
        raise DomainError(E_EMPTY, "请至少设置一个要模拟的参数", field="settings")
    prefix = region_prefix or actor.scope_prefix or ""
    param_region = _param_region(prefix)
    scen = scenario(settings, region_code=param_region, year=year or on.year)
    snap = snapshot or snapshot_build(actor=actor, on=on, region_prefix=prefix)
    keys = frozenset(o.key for o in scen.overrides)
    scen.recompute = keys
    base = ParamSet(recompute=keys)
    flags, info = _screening(snap, base, scen, keys, screening)
    c = compare(snap, base, scen, screening=flags)
    c.screening = info
    c.timings["snapshot"] = round(sum(snap.timings.values()), 3)
    if info is not None:
        c.timings["screening"] = round(info.pop("seconds"), 3)
    _audit(actor, c, kind="scenario")
    return c


def _screening(snap: Snapshot, base: ParamSet, scen: ParamSet, keys: frozenset[str], wanted: bool | None):
    """The screening flags of both sides when wanted (None: when a screening threshold is set)."""
    if wanted is False or (wanted is None and not keys & set(SCREENING_KEYS)):
        return None, None
    from .screening import screening_flags

    t = time.perf_counter()
    flags, info = screening_flags(
        on=snap.on, region_prefix=snap.region_prefix, baseline=base, scenario=scen, memo=snap._memo
    )
    info["seconds"] = time.perf_counter() - t
    return flags, info


def _param_region(prefix: str) -> str:
    """The region a scenario's virtual versions are set for: the county (a parameter is set per county or
    above), or the actor's wider prefix."""
    return prefix[:6] if len(prefix) >= 6 else prefix


def recompute_default_on(year: int, today: dt.date) -> dt.date:
    """The business date a recomputation of ``year`` acts on when the user names none: ``today`` if it is in
    the year, else the year's last day (a past year) or its first day (a future year). For the interface
    edge, which passes the real today."""
    if today.year == year:
        return today
    return dt.date(year, 12, 31) if year < today.year else dt.date(year, 1, 1)


def recompute_offer(
    *, actor, parameter: Parameter, on: dt.date, snapshot: Snapshot | None = None
) -> Comparison:
    """After a new parameter version: the judgements of its year before and after it, naming every
    household whose judgement changes, judged on the business date ``on`` (in that year; the edge
    picks it with ``recompute_default_on``). Changes nothing."""
    require(actor, Cap.REGISTRY_VIEW)
    if parameter.key not in KEYS:
        raise DomainError("whatif_key_unknown", f"参数“{parameter.key}”不影响监测判定，无需重新测算")
    y = parameter.year
    prev = (
        Parameter.objects.filter(
            key=parameter.key, region_code=parameter.region_code, year=y, version__lt=parameter.version
        )
        .order_by("-version")
        .first()
    )
    before = ParamSet(
        overrides=[Override(parameter.key, parameter.region_code, y, prev.value)] if prev else [],
        exclude_ids=frozenset({parameter.pk}),
        label=f"修改前（第{prev.version}版）" if prev else "修改前",
        recompute=frozenset({parameter.key}),
    )
    after = ParamSet(label=f"修改后（第{parameter.version}版）", recompute=frozenset({parameter.key}))
    prefix = actor.scope_prefix or ""
    if parameter.region_code and len(parameter.region_code) > len(prefix):
        prefix = parameter.region_code
    snap = snapshot or snapshot_build(actor=actor, on=on, region_prefix=prefix)
    flags, info = _screening(snap, before, after, frozenset({parameter.key}), None)
    c = compare(snap, before, after, screening=flags)
    if info is not None:
        c.timings["screening"] = round(info.pop("seconds"), 3)
    c.screening = info
    _audit(actor, c, kind="recompute_offer", extra={"parameter": parameter.pk, "version": parameter.version})
    return c
