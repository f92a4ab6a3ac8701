"""Background jobs of the demo (Huey). They call the same services as the CLI."""

from __future__ import annotations

import datetime as dt

from huey.contrib.djhuey import db_task


@db_task()
def monitoring_month_task(county: str, month: str, seed: int = 0) -> list[str]:
    """The scripted month for a county (``month`` = "YYYY-MM"), returning the report lines."""
    from .simulate import scripted_month

    return scripted_month(county=county, month=dt.date.fromisoformat(f"{month}-01"), seed=seed).lines()
