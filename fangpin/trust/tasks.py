"""Periodic jobs of the trust part (Huey). Each calls the same service as its management command, on
today's date (a job is an interface edge: the services themselves take the business date)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangpin.core import clock

from .services.appeals import appeals_escalate
from .services.notifications import notify_due
from .services.recert import recert_tasks_generate


@db_periodic_task(crontab(hour="1", minute="10"))
def appeals_escalate_daily() -> int:
    return len(appeals_escalate(on=clock.today()))


@db_periodic_task(crontab(hour="1", minute="20"))
def recert_tasks_daily() -> int:
    return recert_tasks_generate(on=clock.today())


@db_periodic_task(crontab(hour="7", minute="30"))
def notify_due_daily() -> int:
    return notify_due(on=clock.today())
