"""Screening rules: seeding, admin edits, and turning rules + parameters into engine ``RuleSpec``s."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record, diff
from fangpin.core.errors import DomainError
from fangpin.policy.params import param_get

from ..engine.dialects import DuckDBDialect
from ..engine.rules import RuleSpec, compile_rule
from ..models import ScreeningRule
from ..sources import SOURCES

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "rules.json"
E_RULE_NOT_FOUND = "screening_rule_not_found"
E_RULE_INVALID = "screening_rule_invalid"
EDITABLE = (
    "title", "condition_kind", "condition", "person_conditions", "window", "window_months",
    "threshold_key", "applies_to", "risk_types", "severity", "consent_scope", "active",
)  # fmt: skip


def rules_seed(path: Path = RULES_FILE) -> int:
    """Installs the shipped seed rules whose code does not exist yet. Idempotent."""
    created = 0
    for r in json.loads(path.read_text(encoding="utf-8"))["rules"]:
        _, new = ScreeningRule.objects.get_or_create(code=r["code"], defaults=r)
        created += int(new)
    return created


def _rule_to_dict(rule: ScreeningRule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in ("code", "source", *EDITABLE, "version")}


def rule_validate(rule: ScreeningRule) -> None:
    """A rule must compile (columns of its source, known kinds) and name parameters that exist."""
    if rule.source not in SOURCES:
        raise DomainError(E_RULE_INVALID, f"规则{rule.code}的部门数据类型“{rule.source}”不存在")
    spec = SOURCES[rule.source]
    known = {c.name for c in spec.columns} | {"event_date"}
    cols = [rule.condition.get("column")] if rule.condition.get("column") else []
    cols += list((rule.condition.get("where") or {}).keys())
    cols += [pc["column"] for pc in rule.person_conditions if "column" in pc]
    bad = [c for c in cols if c not in known]
    if bad:
        raise DomainError(E_RULE_INVALID, f"规则{rule.code}引用了{spec.title}中不存在的列：{'、'.join(bad)}")
    fake = RuleSpec(
        code=rule.code, source=rule.source, condition_kind=rule.condition_kind,
        condition={**rule.condition, "values": rule.condition.get("values") or [0]},
        person_conditions=rule.person_conditions, window=rule.window, window_months=rule.window_months,
        threshold=0.0, applies_to=rule.applies_to,
        values={pc.get(k): 0 for pc in rule.person_conditions for k in ("min_key", "max_key") if pc.get(k)},
    )  # fmt: skip
    compile_rule(fake, "2025-01", DuckDBDialect())


@transaction.atomic
def screening_rule_update(*, actor, code: str, reason: str = "", **changes: Any) -> ScreeningRule:
    """An admin edits a rule (threshold key, window, who it applies to, active…); version + audit."""
    require(actor, Cap.PARAMS_EDIT)
    rule = ScreeningRule.objects.select_for_update().filter(code=code).first()
    if rule is None:
        raise DomainError(E_RULE_NOT_FOUND, f"筛查规则“{code}”不存在")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(E_RULE_INVALID, f"不能修改规则的这些字段：{'、'.join(sorted(unknown))}")
    before = _rule_to_dict(rule)
    for k, v in changes.items():
        setattr(rule, k, v)
    rule_validate(rule)
    rule.version += 1
    rule.updated_by = actor
    rule.save()
    audit_record(
        actor=actor, event_type="screening.rule_update", obj=rule,
        data={"code": code, "changes": diff(before, _rule_to_dict(rule))}, reason=reason,
    )  # fmt: skip
    return rule


def ruleset_version(rules: list[ScreeningRule]) -> str:
    blob = json.dumps([_rule_to_dict(r) for r in rules], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def rule_specs(
    rules: list[ScreeningRule],
    *,
    region_code: str,
    year: int,
    resolve: Callable[[str, str, int], tuple[Any, dict[str, Any]]] | None = None,
) -> tuple[list[RuleSpec], list[dict[str, Any]]]:
    """Resolve every parameter a rule names for this region and year; return specs and the param refs.
    ``resolve(key, region_code, year)`` → (value, ref) replaces ``param_get`` (a what-if's parameter set)."""
    refs: dict[str, dict[str, Any]] = {}

    def get(key: str) -> Any:
        if resolve is not None:
            value, refs[key] = resolve(key, region_code, year)
            return value
        pv = param_get(key, region_code=region_code, year=year)
        refs[key] = pv.ref()
        return pv.value

    specs = []
    for r in rules:
        cond = dict(r.condition)
        if cond.get("values_key"):
            cond["values"] = list(get(cond["values_key"]))
        values = {
            pc[k]: get(pc[k]) for pc in r.person_conditions for k in ("min_key", "max_key") if pc.get(k)
        }
        specs.append(
            RuleSpec(
                code=r.code,
                source=r.source,
                condition_kind=r.condition_kind,
                condition=cond,
                person_conditions=list(r.person_conditions),
                window=r.window,
                window_months=r.window_months,
                threshold=float(get(r.threshold_key)) if r.threshold_key else None,
                applies_to=r.applies_to,
                values=values,
            )  # fmt: skip
        )
    return specs, list(refs.values())
