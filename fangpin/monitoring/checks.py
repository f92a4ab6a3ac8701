"""Registers the monitoring warnings (warnings.py) in the registry's check runner (逻辑校验)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator

from fangpin.policy.params import param_value
from fangpin.registry.checks.base import CheckContext, Finding, current_run, register

from . import warnings as W
from .models import Measure, MonitoringObject, ObjectStatus

FAMILY = "监测帮扶"


_LAST = threading.local()  # the last context evaluated (per thread): every code of one run reads it once


def _evaluate(ctx: CheckContext) -> dict[str, list[Finding]]:
    """Every monitoring warning over the context, once per context (the runner asks per code)."""
    run = current_run()
    last = getattr(_LAST, "value", None)
    if last is not None and last[0] is ctx and last[1] == run and run:
        return last[2]
    out = _evaluate_all(ctx)
    _LAST.value = (ctx, run, out)
    return out


def _evaluate_all(ctx: CheckContext) -> dict[str, list[Finding]]:
    objs = list(
        MonitoringObject.objects.filter(
            household__in=ctx.households, status=ObjectStatus.ACTIVE
        ).select_related("household")
    )
    ids = [o.household_id for o in objs]
    members: dict[int, list] = defaultdict(list)
    for p in ctx.persons.filter(household_id__in=ids):
        members[p.household_id].append(p)
    measures: dict[int, list] = defaultdict(list)
    for m in Measure.objects.filter(monitoring_object__in=objs):
        measures[m.monitoring_object_id].append(m)
    cache: dict[str, dict] = {}
    out: dict[str, list[Finding]] = defaultdict(list)
    for o in objs:
        county = o.household.village_id[:6].ljust(12, "0")
        if county not in cache:
            cache[county] = {k: param_value(k, region_code=county, year=ctx.on.year) for k in W.KEYS}
        for w in W.object_warnings(
            o, on=ctx.on, members=members[o.household_id], measures=measures[o.pk], params=cache[county]
        ):
            out[w.code].append(Finding(w.code, o.household_id, w.message))
    return out


def _make(code: str):
    def check(ctx: CheckContext) -> Iterator[Finding]:
        yield from _evaluate(ctx).get(code, [])

    check.__name__ = "monitoring_" + code.lower().replace("-", "_")
    return check


for _code, _title in W.TITLES.items():
    register(_code, family=FAMILY, title=_title, severity="warning")(_make(_code))
