"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis): whatever a client sends,
no server error and every answer matches the schema (the error body included).

Each operation's Hypothesis strategy runs inside one database test (the pytest plugin's lazy schema does not
work with pytest 9), as 村A1's cadre with a real token, over the two-village world."""

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from fangpin.api.tokens import token_issue

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 25


def test_api_never_errors_and_keeps_to_its_schema(world, personas):
    from django.core.wsgi import get_wsgi_application
    from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

    u = personas["cadre_a1"]
    _, raw = token_issue(actor=u, user=u, name="fuzz", days=30, on=dt.date.today())
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    checked = []
    for result in schema.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
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
    assert len(checked) >= 12, checked
