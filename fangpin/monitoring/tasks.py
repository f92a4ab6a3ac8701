"""Background jobs (Huey). They call the same services/selectors as the CLI."""

from __future__ import annotations

import datetime as dt

from huey.contrib.djhuey import db_task


@db_task()
def overdue_count_task(user_id: int, on: str) -> dict[str, int]:
    """Overdue items per township for one user's scope (for a dashboard badge)."""
    from fangpin.accounts.models import User

    from .selectors import overdue_by_township

    actor = User.objects.get(pk=user_id)
    return {
        t: len(items) for t, items in overdue_by_township(actor=actor, on=dt.date.fromisoformat(on)).items()
    }
