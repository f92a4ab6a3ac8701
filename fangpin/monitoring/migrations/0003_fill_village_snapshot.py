# Step 2 of 3: fill the village of existing monitoring records.
#
# Every row first gets its household's current village (one UPDATE per table; LeadSource takes its lead's
# village, which the lead has carried since it was opened). Households that have already moved (more than
# one village in their simple_history) are then redone row by row with the rule the services apply from now
# on: work still open follows the household (its current village), finished records stay in the village
# the household lived in when the record was created.

import datetime as dt

from django.db import migrations
from django.db.models import OuterRef, Subquery

OPEN_LEAD = ("open", "in_case")
OPEN_CASE = ("open", "paused")
LIVE_MEASURE = ("planned", "in_progress")


def _moved_households(HistoricalHousehold) -> dict[int, list[tuple[dt.datetime, str]]]:
    rows = HistoricalHousehold.objects.order_by("id", "history_date", "history_id").values_list(
        "id", "history_date", "village_id"
    )
    seen: dict[int, list[tuple[dt.datetime, str]]] = {}
    for hid, at, village in rows:
        seen.setdefault(hid, []).append((at, village))
    return {hid: v for hid, v in seen.items() if len({x[1] for x in v}) > 1}


def _village_at(timeline: list[tuple[dt.datetime, str]], at: dt.datetime | None) -> str:
    village = timeline[0][1]
    for when, code in timeline:
        if at is not None and when > at:
            break
        village = code
    return village


def forwards(apps, schema_editor):
    Household = apps.get_model("registry", "Household")
    HistoricalHousehold = apps.get_model("registry", "HistoricalHousehold")
    Lead = apps.get_model("monitoring", "Lead")
    LeadSource = apps.get_model("monitoring", "LeadSource")
    names = ("MonitoringObject", "Case", "Measure", "Visit", "Assignment")
    models = {n: apps.get_model("monitoring", n) for n in names}

    current = Household.objects.filter(pk=OuterRef("household_id")).values("village_id")[:1]
    for model in models.values():
        model.objects.filter(village__isnull=True).update(village_id=Subquery(current))
    lead_village = Lead.objects.filter(pk=OuterRef("lead_id")).values("village_id")[:1]
    LeadSource.objects.filter(village__isnull=True).update(village_id=Subquery(lead_village))

    moved = _moved_households(HistoricalHousehold)
    if not moved:
        return
    now_village = dict(Household.objects.filter(pk__in=list(moved)).values_list("id", "village_id"))
    today = dt.date.today()

    def is_open(name: str, row) -> bool:
        if name == "Case":
            return row.status in OPEN_CASE
        if name == "Measure":
            return row.status in LIVE_MEASURE
        if name == "Assignment":
            return row.end_on is None
        if name == "MonitoringObject":
            return row.status == "active" or (
                row.status == "eliminated"
                and row.gradual_exit_until is not None
                and row.gradual_exit_until >= today
            )
        return False  # visits are done when they are recorded

    for name, model in models.items():
        for row in model.objects.filter(household_id__in=list(moved)).iterator():
            hid = row.household_id
            want = now_village[hid] if is_open(name, row) else _village_at(moved[hid], row.created_at)
            if want != row.village_id:
                model.objects.filter(pk=row.pk).update(village_id=want)
    for lead in Lead.objects.filter(household_id__in=list(moved), status__in=OPEN_LEAD):
        want = now_village[lead.household_id]
        if want != lead.village_id:
            Lead.objects.filter(pk=lead.pk).update(village_id=want, township_id=want[:9] + "000")
            LeadSource.objects.filter(lead_id=lead.pk).update(village_id=want)
    for src in LeadSource.objects.filter(
        lead__household_id__in=list(moved), monitoring_object__isnull=False
    ).select_related("lead"):
        # reports attached to a (closed) lead of an object that was already monitored: where they were made
        want = _village_at(moved[src.lead.household_id], src.created_at)
        if src.lead.status not in OPEN_LEAD and want != src.village_id:
            LeadSource.objects.filter(pk=src.pk).update(village_id=want)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_village_snapshot"),
        ("registry", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
