"""Parameter sets for a what-if: the parameters as they are, plus virtual versions (a scenario), minus
chosen versions (the state before a change). Resolution is ``policy.params._param_read``'s rule — most
specific region prefix, then the latest year not after the one asked, then the latest version — over the
stored rows and the virtual ones, which count as the newest version of their (key, region, year)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from fangpin.core.errors import DomainError
from fangpin.policy.models import Parameter
from fangpin.policy.params import E_MISSING, _prefixes

# The parameters a scenario may change, with their Chinese names (the screen's form, the CLI's --set).
KEYS: dict[str, str] = {
    "income.monitoring_line": "监测收入线（元/人·年）",
    "income.window_months": "收入计算期（月）",
    "income.include_insurance_payout": "计入理赔收入",
    "elimination.min_months": "识别纳入后至少满（月）方可消除",
    "elimination.income_stable_months": "收入稳定高于监测范围（月）",
    "elimination.min_measures_done": "至少落实帮扶措施（项）",
    "elimination.gradual_exit_months": "渐退期（月）",
}
# The screening rules' thresholds (``screening/data/rules.json`` names them): a scenario that sets one runs
# the department screening rules over the uploaded batches on both sides (``whatif.screening``).
SCREENING_KEYS: dict[str, str] = {
    "screening.medical.exited_annual_oop": "筛查：脱贫人口当年累计住院自付（元）",
    "screening.medical.monitored_single_stay": "筛查：监测对象单次住院自付（元）",
    "screening.medical.other_single_stay": "筛查：其他农户单次住院自付（元）",
    "screening.education.dropout_age_min": "筛查：辍学适龄起始年龄（岁）",
    "screening.education.dropout_age_max": "筛查：辍学适龄截止年龄（岁）",
    "screening.emergency.loss_amount": "筛查：受灾损失（元）",
    "screening.water.interruption_days": "筛查：饮水中断（天）",
}
KEYS.update(SCREENING_KEYS)
# amounts: a value to the fen; every other number of KEYS is a whole count (months, days, years)
MONEY_KEYS = frozenset({
    "income.monitoring_line", "screening.medical.exited_annual_oop", "screening.medical.monitored_single_stay",
    "screening.medical.other_single_stay", "screening.emergency.loss_amount",
})  # fmt: skip
ALIASES = {
    "monitoring_line": "income.monitoring_line",
    "line": "income.monitoring_line",
    "window_months": "income.window_months",
    "min_months": "elimination.min_months",
    "stable_months": "elimination.income_stable_months",
    "income_stable_months": "elimination.income_stable_months",
    "min_measures": "elimination.min_measures_done",
    "min_measures_done": "elimination.min_measures_done",
    "gradual_exit_months": "elimination.gradual_exit_months",
    "exited_annual_oop": "screening.medical.exited_annual_oop",
    "medical_oop": "screening.medical.exited_annual_oop",
    "monitored_single_stay": "screening.medical.monitored_single_stay",
    "other_single_stay": "screening.medical.other_single_stay",
    "loss_amount": "screening.emergency.loss_amount",
    "interruption_days": "screening.water.interruption_days",
}
E_KEY = "whatif_key_unknown"
E_VALUE = "whatif_value_invalid"
VIRTUAL = 10**9  # a virtual version outranks every stored one


@lru_cache(maxsize=100_000)
def _region_prefixes(region_code: str) -> tuple[str, ...]:
    """``policy.params._prefixes`` (pure), kept per code: a preview asks it for every village and key."""
    return tuple(_prefixes(region_code))


@dataclass(frozen=True)
class Override:
    """A virtual parameter version: ``value`` for ``key`` from ``year`` in ``region_code`` (prefix)."""

    key: str
    region_code: str
    year: int
    value: Any


@dataclass
class ParamSet:
    """Current parameters, plus ``overrides``, minus the stored versions in ``exclude_ids``."""

    overrides: list[Override] = field(default_factory=list)
    exclude_ids: frozenset[int] = frozenset()
    label: str = "现行参数"
    recompute: frozenset[str] = frozenset()  # keys whose stored consequences (渐退期 end) are recomputed
    stored: list[dict[str, Any]] | None = None  # rows instead of the Parameter table (the bench)
    _rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict, repr=False)

    def touches(self, key: str) -> bool:
        return (
            key in self.recompute
            or any(o.key == key for o in self.overrides)
            or bool(self.exclude_ids and Parameter.objects.filter(pk__in=self.exclude_ids, key=key).exists())
        )

    def _candidates(self, key: str) -> list[dict[str, Any]]:
        if key not in self._rows:
            if self.stored is not None:
                rows = [r for r in self.stored if r["key"] == key and r["id"] not in self.exclude_ids]
            else:
                rows = list(
                    Parameter.objects.filter(key=key, is_active=True)
                    .exclude(pk__in=self.exclude_ids)
                    .values("id", "value", "version", "region_code", "year")
                )
            rows += [
                {
                    "id": None,
                    "value": o.value,
                    "version": VIRTUAL,
                    "region_code": o.region_code,
                    "year": o.year,
                }
                for o in self.overrides
                if o.key == key
            ]
            self._rows[key] = rows
        return self._rows[key]

    def get(self, key: str, *, region_code: str, year: int) -> dict[str, Any]:
        """The winning row (id None for a virtual one) — the same rule as ``param_get``."""
        k = (key, region_code, year)
        if k not in self._memo:
            self._memo[k] = self._get(key, region_code=region_code, year=year)
        return self._memo[k]

    def _get(self, key: str, *, region_code: str, year: int) -> dict[str, Any]:
        rows = self._candidates(key)
        # only the prefixes some row is set for decide: villages sharing them share the answer
        regions = self._rows.setdefault(f"{key}\0regions", [{r["region_code"] for r in rows}])[0]
        pre = frozenset(p for p in _region_prefixes(region_code) if p in regions)
        k = (key, pre, year)
        if k in self._memo:
            return self._memo[k]
        c = [r for r in rows if r["year"] <= year and r["region_code"] in pre]
        if not c:
            raise DomainError(
                E_MISSING, f"缺少政策参数“{key}”（区域 {region_code or '全国'}，{year}年），请管理员配置"
            )
        self._memo[k] = max(c, key=lambda r: (len(r["region_code"]), r["year"], r["version"]))
        return self._memo[k]

    def value(self, key: str, *, region_code: str, year: int) -> Any:
        return self.get(key, region_code=region_code, year=year)["value"]

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "key": o.key,
                "name": KEYS.get(o.key, o.key),
                "region": o.region_code,
                "year": o.year,
                "value": o.value,
            }
            for o in self.overrides
        ]


def canonical_key(key: str) -> str:
    k = ALIASES.get(key.strip(), key.strip())
    if k not in KEYS:
        raise DomainError(E_KEY, f"不能模拟参数“{key}”，可选：{'、'.join(KEYS)}", field="key")
    return k


_REL = re.compile(r"^([+-])\s*(\d+(?:\.\d+)?)\s*%$")


def _clean_number(d: Decimal) -> int | float:
    d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(d) if d == d.to_integral_value() else float(d)


def parse_value(key: str, text: Any, *, current: Any) -> Any:
    """A scenario value: an absolute value of the key's type, or for a number ``+10%`` / ``-5%`` /
    ``+500`` relative to ``current`` (amounts to the fen)."""
    if isinstance(current, bool):
        s = str(text).strip().lower()
        if s in ("1", "true", "是", "yes", "y"):
            return True
        if s in ("0", "false", "否", "no", "n"):
            return False
        raise DomainError(E_VALUE, f"参数“{KEYS[key]}”应填 是 或 否，填写的是“{text}”", field=key)
    s = str(text).strip()
    try:
        base = Decimal(str(current))
        if m := _REL.match(s):
            d = base * (Decimal(1) + (Decimal(m.group(2)) / 100) * (1 if m.group(1) == "+" else -1))
        elif s[:1] in "+-" and len(s) > 1:
            d = base + Decimal(s)
        else:
            d = Decimal(s)
    except Exception:
        raise DomainError(
            E_VALUE, f"参数“{KEYS[key]}”的值“{text}”不是数字或百分比（如 +10%）", field=key
        ) from None
    if not d.is_finite() or d < 0:
        raise DomainError(E_VALUE, f"参数“{KEYS[key]}”的值“{text}”应为不小于0的数", field=key)
    if isinstance(current, int) and key not in MONEY_KEYS:
        if d != d.to_integral_value():
            raise DomainError(E_VALUE, f"参数“{KEYS[key]}”应为整数，填写的是“{text}”", field=key)
        return int(d)
    return _clean_number(d)


def scenario(
    settings: dict[str, Any],
    *,
    region_code: str,
    year: int,
    label: str = "模拟方案",
    stored: list[dict[str, Any]] | None = None,
) -> ParamSet:
    """A scenario from ``{key: text}`` (``+10%`` relative to the value in force for ``region_code`` in
    ``year``): each becomes a virtual version for (region_code, year)."""
    current = ParamSet(stored=stored)
    out = []
    for raw_key, text in settings.items():
        key = canonical_key(raw_key)
        cur = current.value(key, region_code=region_code, year=year)
        out.append(Override(key, region_code, year, parse_value(key, text, current=cur)))
    return ParamSet(overrides=out, label=label, stored=stored)
