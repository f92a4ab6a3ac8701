"""Test-wide fixtures: a database with the divisions of 龙安区 and 谷城县 and the default parameters."""

from __future__ import annotations

import os

import pytest


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"fangpin test database: {engine} ({os.environ.get('DATABASE_URL', 'sqlite default')})"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from fangpin.policy.params import load_defaults
    from fangpin.regions.loader import load_regions

    with django_db_blocker.unblock():
        load_regions(county_prefixes=["410506", "420625"])
        load_defaults()


@pytest.fixture
def personas(db):
    from fangpin.testing.personas import PERSONAS, persona

    return {name: persona(name) for name in PERSONAS}
