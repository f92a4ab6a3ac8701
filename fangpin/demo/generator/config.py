"""The generator's own settings (``fangpin/demo/data/generator.json``): simulation values that are not
policy (no county sets them, so they are not in the parameter table) and must not be constants in
code either. ``GenParams.config`` carries them; a test or a bench may pass another ``GenConfig``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CONFIG_FILE = Path(__file__).resolve().parent.parent / "data" / "generator.json"


@dataclass(frozen=True)
class HistoryConfig:
    # 学段 → yearly cost of a student (yuan), for the stages that start a school-cost event
    school_yearly_cost: dict[str, float] = field(default_factory=dict)
    school_cost_spread: tuple[float, float] = (0.8, 1.3)  # the drawn cost is uniform in [lo, hi] × cost
    # 务工月监测: share of job losses whose end of work it records; monthly rate per migrant of ends
    # that are no loss (false alarms), × the factor in January and February (春节 returns)
    work_end_recorded_share: float = 0.0
    work_end_other_rate: float = 0.0
    work_end_new_year_factor: float = 1.0
    # 医保 push of 脱贫人口's hospital settlements every N days (0: monthly, ``history.KNOWN_LAG_DAYS``)
    medical_push_every_days: int = 0

    def school_cost(self, stage: str) -> float:
        """The yearly cost of the stage ``stage`` begins with (e.g. "本科在读" → 本科)."""
        for k, v in self.school_yearly_cost.items():
            if stage.startswith(k):
                return float(v)
        raise KeyError(f"generator.json: history.school_yearly_cost has no stage for {stage!r}")


@dataclass(frozen=True)
class GenConfig:
    history: HistoryConfig = field(default_factory=HistoryConfig)


def _public(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def config_from_dict(d: dict[str, Any]) -> GenConfig:
    h = _public(d["history"])
    costs = {k: float(v) for k, v in _public(h["school_yearly_cost"]).items()}
    lo, hi = (float(x) for x in h["school_cost_spread"])
    if not costs or min(costs.values()) < 0 or not 0 < lo <= hi:
        raise ValueError(f"{CONFIG_FILE.name}: history.school_yearly_cost / school_cost_spread out of range")
    w = _public(h.get("work_monitoring", {}))
    recorded, other, factor = (
        float(w.get(k, d)) for k, d in (("recorded_share", 0), ("other_rate", 0), ("new_year_factor", 1))
    )
    if not (0 <= recorded <= 1 and other >= 0 and 0 <= other * factor <= 1 and factor >= 0):
        raise ValueError(f"{CONFIG_FILE.name}: history.work_monitoring out of range")
    push = int(_public(h.get("medical_push", {})).get("every_days", 0))
    if not 0 <= push <= 31:
        raise ValueError(f"{CONFIG_FILE.name}: history.medical_push.every_days out of range")
    return GenConfig(
        history=HistoryConfig(
            school_yearly_cost=costs,
            school_cost_spread=(lo, hi),
            work_end_recorded_share=recorded,
            work_end_other_rate=other,
            work_end_new_year_factor=factor,
            medical_push_every_days=push,
        )
    )


@lru_cache(maxsize=1)
def default_config() -> GenConfig:
    """The shipped settings (read once)."""
    return config_from_dict(json.loads(CONFIG_FILE.read_text(encoding="utf-8")))
