from __future__ import annotations

import pytest

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.testing.factories import COUNTY


@pytest.fixture
def officer(db):
    """A department data officer of the given department (医保, 残联, 公安 …)."""

    def make(department: str) -> User:
        user, _ = User.objects.get_or_create(
            username=f"dept_{department}",
            defaults={"role": Role.DEPT_OFFICER, "region_id": COUNTY, "department": department},
        )
        return user

    return make


@pytest.fixture
def monitored(monkeypatch):
    """Which households count as monitoring objects for the registry export (monitoring's own data
    is exercised in monitoring's tests; here the set is chosen by the test)."""
    chosen: set[int] = set()
    monkeypatch.setattr("fangpin.screening.registry_export.monitored_household_ids", lambda on: set(chosen))
    return chosen
