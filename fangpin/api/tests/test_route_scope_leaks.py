"""The leaks the every-route-as-every-role test (test_every_route_scope.py) found, each pinned by a focused test:

* a 帮扶责任人 read the progress of any self-application of their village by its 受理编号 (not only of the
  households assigned to them);
* a county role of another county read this county's department batches (a batch belonged to nobody's county);
* two request bodies shared the schema name ``AssignIn``, so the OpenAPI schema described the household
  assignment's body with the appeal assignment's fields (``owner_id`` instead of ``user_id``)."""

import datetime as dt

import pytest
from django.utils import timezone

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.api.api import api
from fangpin.core.errors import NotFound
from fangpin.monitoring.services.assistance import assignment_set
from fangpin.screening import selectors as screening_selectors
from fangpin.screening.models import DeptBatch
from fangpin.testing import factories as f
from fangpin.trust.services.self_application import self_application_lookup, self_application_receive

pytestmark = pytest.mark.django_db
ON = dt.date(2025, 6, 2)


def test_a_helper_reads_the_self_applications_of_assigned_households_only(world, personas, client, bearer):
    helper = User.objects.create(username="helper_b1", role=Role.HELPER, region_id=f.VILLAGE_B1)
    mine, other = world["b1"]["household2"], world["b1"]["household"]
    assignment_set(actor=personas["township_b"], household=mine, user=helper, kind="helper", on=ON)

    def ack(hh):
        form = {"difficulties": "看病花费大", "risk_types": [], "note": ""}
        return self_application_receive(
            actor=personas["cadre_b1"], household_id=hh.id, form=form, consent={"signed": False}, on=ON
        ).ack_no

    assert self_application_lookup(ack_no=ack(mine), actor=helper).ack_no
    foreign = ack(other)
    with pytest.raises(NotFound):
        self_application_lookup(ack_no=foreign, actor=helper)
    assert self_application_lookup(ack_no=foreign, actor=personas["cadre_b1"]).ack_no  # the village's cadre
    personas["helper_b1"] = helper
    r = client.get(f"/api/v1/self-applications/{foreign}", **bearer("helper_b1"))
    missing = client.get("/api/v1/self-applications/SQ20250602000000", **bearer("helper_b1"))
    assert r.status_code == missing.status_code == 404 and r.content == missing.content


def test_department_batches_belong_to_the_uploaders_county(personas):
    batch = DeptBatch.objects.create(
        kind="medical", department="医保", period="2025-06", filename="医保.csv", sha256="1" * 64,
        uploaded_by=personas["dept_yibao"], uploaded_at=timezone.now(), parquet_path="none.parquet",
    )  # fmt: skip
    admin_x = User.objects.create(username="admin_x", role=Role.COUNTY_ADMIN, region_id="410505000000")
    yibao_x = User.objects.create(
        username="yibao_x", role=Role.DEPT_OFFICER, region_id="410505000000", department="医保"
    )
    for outsider in (admin_x, yibao_x):
        assert not screening_selectors.batch_list(actor=outsider).exists()
        with pytest.raises(NotFound):
            screening_selectors.batch_get(actor=outsider, batch_id=batch.pk)
    for insider in (personas["county_admin"], personas["county_reviewer"], personas["dept_yibao"]):
        assert screening_selectors.batch_get(actor=insider, batch_id=batch.pk) == batch


def test_every_request_body_has_its_own_schema_name():
    schema = api.get_openapi_schema()
    body = schema["paths"]["/api/v1/households/{household_id}/assignments"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "user_id" in schema["components"]["schemas"][ref]["properties"]
    appeal = schema["paths"]["/api/v1/appeals/{appeal_id}/assign"]["post"]["requestBody"]
    ref2 = appeal["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert ref != ref2 and "owner_id" in schema["components"]["schemas"][ref2]["properties"]
