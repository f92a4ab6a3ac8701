"""The policy values the generator needs, read from the parameter table (county path) or straight from
the shipped defaults file (province path, no database). Never constants in code: the income
distribution is drawn *around the line of each year*, so a county that changes its line gets data
around its own line."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fangpin.policy.params import DEFAULTS_FILE

from .config import GenConfig, default_config


@dataclass(frozen=True)
class GenParams:
    as_of: dt.date
    lines: dict[int, Decimal]  # year → 监测范围 (人均纯收入, 元)
    risk_types: tuple[str, ...]
    implausible_per_capita: Decimal
    implausible_from: int | None = None  # first year income.implausible_per_capita applies
    refs: list[dict[str, Any]] = field(default_factory=list)
    gradual_exit_months: int = 12  # elimination.gradual_exit_months (渐退期) of the county
    # the generator's own settings (not policy: generator.json), e.g. the history's school costs
    config: GenConfig = field(default_factory=default_config)

    @property
    def income_years(self) -> list[int]:
        """Five complete years before as_of (2021-2025 for a demo built in 2026)."""
        return list(range(self.as_of.year - 5, self.as_of.year))

    @functools.cached_property  # read per household and per member
    def partial_year_end(self) -> dt.date | None:
        """Last day of the month before as_of: the current year's income record runs from 1 January
        to this day, so the 12-month window at the as_of month is fully covered. None in January
        (the previous complete year already ends there)."""
        if self.as_of.month == 1:
            return None
        return self.as_of.replace(day=1) - dt.timedelta(days=1)

    @property
    def partial_months(self) -> int:
        """Months covered by the current year's record (0 in January)."""
        return self.as_of.month - 1

    @functools.cached_property  # read per household and per member
    def baseline(self) -> dt.date:
        """The date the registry snapshot starts: members present then entered "at baseline"."""
        return dt.date(self.as_of.year - 5, 1, 1)

    def line(self, year: int) -> Decimal:
        return self.lines[year]


def _years(as_of: dt.date) -> list[int]:
    return list(range(as_of.year - 5, as_of.year + 1))


def gen_params_from_db(county_code: str, as_of: dt.date) -> GenParams:
    from fangpin.core.errors import DomainError
    from fangpin.policy.params import param_get

    refs: list[dict[str, Any]] = []

    def get(key: str, year: int) -> Any:
        pv = param_get(key, region_code=county_code.ljust(12, "0"), year=year)
        refs.append(pv.ref())
        return pv.value

    lines = {y: Decimal(str(get("income.monitoring_line", y))) for y in _years(as_of)}
    implausible_from = None
    for y in _years(as_of):
        try:
            param_get("income.implausible_per_capita", region_code=county_code.ljust(12, "0"), year=y)
        except DomainError:
            continue
        implausible_from = y
        break
    return GenParams(
        as_of=as_of,
        lines=lines,
        risk_types=tuple(get("catalogue.risk_types", as_of.year)),
        implausible_per_capita=Decimal(str(get("income.implausible_per_capita", as_of.year))),
        implausible_from=implausible_from,
        refs=refs,
        gradual_exit_months=int(get("elimination.gradual_exit_months", as_of.year)),
    )


def _default_value(rows: list[dict[str, Any]], key: str, region: str, year: int) -> Any:
    best = None
    for r in rows:
        if r["key"] != key or r["year"] > year:
            continue
        prefix = r.get("region", "")
        if not region.startswith(prefix):
            continue
        rank = (len(prefix), r["year"])
        if best is None or rank > best[0]:
            best = (rank, r["value"])
    if best is None:
        raise KeyError(f"no default for {key} at {region}/{year}")
    return best[1]


def gen_params_from_defaults(region_code: str, as_of: dt.date) -> GenParams:
    rows = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))["parameters"]
    lines = {
        y: Decimal(str(_default_value(rows, "income.monitoring_line", region_code, y))) for y in _years(as_of)
    }
    implausible_from = None
    for y in _years(as_of):
        try:
            _default_value(rows, "income.implausible_per_capita", region_code, y)
        except KeyError:
            continue
        implausible_from = y
        break
    return GenParams(
        as_of=as_of,
        lines=lines,
        risk_types=tuple(_default_value(rows, "catalogue.risk_types", region_code, as_of.year)),
        implausible_per_capita=Decimal(
            str(_default_value(rows, "income.implausible_per_capita", region_code, as_of.year))
        ),
        implausible_from=implausible_from,
        refs=[{"source": str(DEFAULTS_FILE.name), "region": region_code}],
        gradual_exit_months=int(
            _default_value(rows, "elimination.gradual_exit_months", region_code, as_of.year)
        ),
    )
