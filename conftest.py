"""Test-wide fixtures: a database with the divisions of 龙安区 and 谷城县 and the default parameters."""

from __future__ import annotations

import os
from pathlib import Path

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


@pytest.fixture(autouse=True)
def _region_paths_forgotten():
    """Each test starts without the process's cache of region names (``regions.selectors.region_path_names``,
    read by the household file and the export): a test's rolled-back rename must not reach the next one."""
    from fangpin.regions.selectors import region_paths_forget

    region_paths_forget()
    yield
    region_paths_forget()


@pytest.fixture
def personas(db):
    from fangpin.testing.personas import PERSONAS, persona

    return {name: persona(name) for name in PERSONAS}


REGISTRY_FIXTURES = Path(__file__).parent / "fangpin" / "registry" / "tests" / "fixtures"


# The registry test files carry a county's own 备注 column (``registry.tests.test_import.HEADERS``, the hand
# re-saved fixtures): the mapping question for it was answered once ("不导入"), as a county does on its first
# upload. Stored directly (no audit event, so the tests' audit counts stay theirs) for every test that uses
# those files (registry, encryption, hostile, killed-import tests); test_import_mapping.py tests the question
# and the audited answer themselves.
@pytest.fixture(autouse=True)
def _local_remark_column_answered(request):
    if "personas" not in request.fixturenames:
        return
    admin = request.getfixturevalue("personas")["county_admin"]
    from django.utils import timezone

    from fangpin.registry.io.columns import normalize_header
    from fangpin.registry.io.read import read_head, table_from_rows
    from fangpin.registry.models.imports import ImportMapping
    from fangpin.registry.tests.national_file import xlsx_bytes
    from fangpin.registry.tests.test_import import HEADERS, good_rows

    files = [("a.xlsx", xlsx_bytes(HEADERS, good_rows()), "备注（本县自加）")]
    files += [(n, (REGISTRY_FIXTURES / n).read_bytes(), "备注（乡镇自加）") for n in ("resaved_by_hand.xlsx", "resaved_by_hand_gbk.csv")]  # fmt: skip
    for name, data, header in files:
        table = table_from_rows(read_head(data, name))
        ImportMapping.objects.get_or_create(
            signature=table.signature,
            defaults={
                "headers": [h for h in table.headers if h],
                "columns": {normalize_header(header): ""},
                "saved_by": admin,
                "saved_at": timezone.now(),
            },
        )


# FANGPIN_CHECK_SEALS=1: after every database test, every decision record still verifies (core.integrity) —
# proves no write path of the application leaves a row unsealed or sealed wrongly. On in `./run test` (it reads
# the sealed tables after each test), off in a bare pytest; tests that tamper on purpose are marked ``tampers_seals``.
if os.environ.get("FANGPIN_CHECK_SEALS"):

    @pytest.fixture(autouse=True)
    def _seals_still_verify(request):
        uses_db = "db" in request.fixturenames or request.node.get_closest_marker("django_db")
        if not uses_db or request.node.get_closest_marker("tampers_seals"):
            yield
            return
        request.getfixturevalue("db")  # set up before this teardown runs, so torn down after it
        yield
        from fangpin.core.integrity import integrity_verify

        bad = integrity_verify().tampered
        assert not bad, [t.as_dict() for t in bad[:5]]
