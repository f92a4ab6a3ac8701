"""帮扶措施 the national system already holds, loaded with the monitoring objects of an import.

The national 监测对象信息 export names each measure in the column of its category (产业帮扶, 就业帮扶 …
饮水安全保障), per person, several measures separated by commas. ``measures_import`` turns each named
measure of a monitoring object's member into a ``Measure`` of that object: its catalogue entry is chosen
from the column (and, for 就业帮扶 / 综合保障 / 社会帮扶, from the words of the cell), its ``outcome``
keeps the national text (``国家系统：综合保障=低保``), which is also the idempotence key — a re-import of
the same file adds nothing. Imported measures start on the object's 识别监测时间 (the national export
carries no measure dates) and are ``in_progress`` for an object under monitoring, ``done`` for one whose
risk was eliminated. Unlike ``measure_add`` this loads history, so eliminated objects get their measures too.

Public interface: ``measures_import(*, actor, rows, source_ref) -> {"created": n, "unchanged": n, …}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.audit.record import audit_record
from fangpin.registry.models import Person

from ..models import Measure, MeasureStatus, MonitoringObject, ObjectStatus
from ._common import Params, ensure_in_scope, require_any

OUTCOME_PREFIX = "国家系统："

# national column → catalogue.measures entry; (word in the cell, entry) pairs refine it
COLUMN_MEASURE = {
    "产业帮扶": "产业",
    "就业帮扶": "就业",
    "金融帮扶": "小额信贷",
    "公益岗位帮扶": "公益岗位",
    "健康帮扶": "医疗救助/医保补贴",
    "教育帮扶": "雨露计划/教育资助",
    "义务教育保障": "雨露计划/教育资助",
    "住房安全保障": "危房改造",
    "饮水安全保障": "饮水保障",
    "综合保障": "其他",
    "社会帮扶": "其他",
    "搬迁": "搬迁后扶",
    "就业渠道（易地搬迁后扶使用）": "搬迁后扶",
    "生产生活条件改善": "其他",
    "基础设施建设": "其他",
}
WORD_MEASURE = {
    "就业帮扶": (("培训", "技能培训"),),
    "综合保障": (("低保", "低保"), ("特困", "特困供养"), ("残疾", "残疾人补贴"), ("临时救助", "临时救助")),
    "社会帮扶": (("消费", "消费帮扶"), ("保险", "防返贫保险")),
}
_SPLIT = re.compile(r"[,，、;；]+")


def catalogue_entry(column: str, item: str, catalogue: dict[str, str]) -> str | None:
    """The catalogue entry a national measure belongs to (None: the catalogue has neither it nor 其他)."""
    name = COLUMN_MEASURE.get(column, "其他")
    for word, entry in WORD_MEASURE.get(column, ()):
        if word in item:
            name = entry
            break
    if name in catalogue:
        return name
    return "其他" if "其他" in catalogue else None


def split_cell(text: str) -> list[str]:
    return [t.strip() for t in _SPLIT.split(text or "") if t.strip()]


@transaction.atomic
def measures_import(*, actor, rows: Iterable[dict[str, Any]], source_ref: str = "") -> dict[str, int]:
    """``rows``: {household_id, identified_on, id_number, row, cells: {column: text}} per person."""
    require_any(actor, Cap.REGISTRY_IMPORT)
    rows = list(rows)
    counts = {"created": 0, "unchanged": 0, "no_object": 0, "not_in_catalogue": 0}
    if not rows:
        return counts
    objects: dict[tuple[int, Any], MonitoringObject] = {}
    for obj in (
        MonitoringObject.objects.filter(household_id__in={r["household_id"] for r in rows})
        .exclude(status=ObjectStatus.REVOKED)
        .select_related("household")
    ):
        objects[(obj.household_id, obj.identified_on)] = obj
    persons = {p.id_number: p for p in Person.objects.filter(id_number__in=[r["id_number"] for r in rows])}
    existing = set(
        Measure.objects.filter(monitoring_object__in=[o.pk for o in objects.values()])
        .filter(outcome__startswith=OUTCOME_PREFIX)
        .values_list("monitoring_object_id", "person_id", "outcome")
    )
    params: dict[tuple[str, int], Params] = {}
    created: dict[int, list[str]] = {}
    for r in rows:
        obj = objects.get((r["household_id"], r["identified_on"]))
        if obj is None:
            counts["no_object"] += 1
            continue
        ensure_in_scope(actor, obj.household)
        person = persons.get(r["id_number"])
        key = (obj.household.village_id, obj.identified_on.year)
        if key not in params:
            params[key] = Params(*key)
        p = params[key]
        catalogue = p("catalogue.measures")
        done = obj.status == ObjectStatus.ELIMINATED
        for column, text in r["cells"].items():
            for item in split_cell(text):
                outcome = f"{OUTCOME_PREFIX}{column}={item}"
                if (obj.pk, person.pk if person else None, outcome) in existing:
                    counts["unchanged"] += 1
                    continue
                name = catalogue_entry(column, item, catalogue)
                if name is None:
                    counts["not_in_catalogue"] += 1
                    continue
                Measure.objects.create(
                    monitoring_object=obj,
                    household=obj.household,
                    person=person,
                    name=name,
                    kind=catalogue[name],
                    start_on=obj.identified_on,
                    status=MeasureStatus.DONE if done else MeasureStatus.IN_PROGRESS,
                    outcome=outcome,
                    catalogue_ref=p.refs()[0],
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
                existing.add((obj.pk, person.pk if person else None, outcome))
                created.setdefault(obj.pk, []).append(outcome)
                counts["created"] += 1
    for pk, outcomes in created.items():
        obj = next(o for o in objects.values() if o.pk == pk)
        audit_record(
            actor=actor,
            event_type="monitoring.measures_import",
            obj=obj,
            region_code=obj.household.village_id,
            household_id=obj.household_id,
            data={"measures": outcomes, "source_ref": source_ref},
        )
    return counts
