"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis): whatever a client sends,
no server error and every answer matches the schema (the error body included).

Each operation's Hypothesis strategy runs inside one database test (the pytest plugin's lazy schema does not
work with pytest 9), as 村A1's cadre with a real token, over the two-village world."""

import datetime as dt
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from fangpin.api.tokens import token_issue

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 25
# The back-office routes answer a village cadre with 403 before any of their code runs: they are fuzzed
# again as the county admin, who reaches the services (uploads, imports, runs, users, parameters, reports).
ADMIN_PATHS = ("/imports", "/dept-", "/screening-", "/link-reviews", "/users", "/parameters", "/calendar",
               "/reports", "/change-requests", "/worklists")  # fmt: skip
ADMIN_EXAMPLES = 12


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """The raw WSGI handler closes "old" database connections when a request starts and ends (Django's test
    client switches that off): inside the test's transaction that would close it on PostgreSQL."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("who", ["cadre_a1", "county_admin"])
def test_api_never_errors_and_keeps_to_its_schema(world, personas, wsgi_keeps_the_test_connection, who):
    from django.core.wsgi import get_wsgi_application
    from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

    u = personas[who]
    _, raw = token_issue(actor=u, user=u, name="fuzz", days=30, on=dt.date.today())
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    checked = []
    for result in schema.get_all_operations():
        op = result.ok()
        admin_route = op.path.removeprefix("/api/v1").startswith(ADMIN_PATHS)
        if who == "county_admin" and not admin_route:
            continue

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION if who == "cadre_a1" else ADMIN_EXAMPLES,
            deadline=None,
            derandomize=os.environ.get("CI") == "true",  # CI: the same examples every run; locally: new ones
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(
                headers={"Authorization": f"Bearer {raw}"},
                checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
            )

        run()
        checked.append(op.label)
    assert len(checked) >= (45 if who == "cadre_a1" else 30), checked
    assert {"POST /api/v1/imports", "POST /api/v1/dept-uploads"} <= set(checked)  # multipart ones too
