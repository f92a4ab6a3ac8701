"""Side doors closed: the admin read-only and scoped, parameters only through the versioned service with
an actor, no actor=None bypass (a named system actor for jobs), the recertification job atomic."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError

from fangpin.accounts.actors import system_actor
from fangpin.audit.models import AuditEvent
from fangpin.policy.models import Parameter
from fangpin.policy.params import param_value, parameter_set
from fangpin.registry.models import Household
from fangpin.testing import factories as f
from fangpin.trust.models import Recertification, Task
from fangpin.trust.services import integrations
from fangpin.trust.services.recert import recert_tasks_generate


def _staff(user, *perms):
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return user


def test_admin_is_scoped_and_read_only(client, personas):
    own = f.household(f.VILLAGE_A1)
    other = f.household(f.VILLAGE_B1)
    Task.objects.create(kind="recert", household=other, title="复核", due_on=dt.date(2025, 6, 1))
    mine = Task.objects.create(kind="recert", household=own, title="复核", due_on=dt.date(2025, 6, 1))
    client.force_login(
        _staff(personas["township_a"], "view_household", "change_household", "view_task", "change_task")
    )
    body = client.get("/admin/registry/household/").content.decode()
    assert own.household_no in body and other.household_no not in body
    assert client.get(f"/admin/registry/household/{other.pk}/change/").status_code in (302, 404)
    tasks = client.get("/admin/trust/task/").content.decode()
    assert f"/admin/trust/task/{mine.pk}/" in tasks and tasks.count("/admin/trust/task/") >= 1
    assert client.get(f"/admin/trust/task/{mine.pk - 1}/change/").status_code in (302, 404)
    # change permission granted, yet no edit: the form is a read-only view and a POST changes nothing
    r = client.post(f"/admin/registry/household/{own.pk}/change/", {"household_no": "HACKED"})
    assert r.status_code == 403
    assert Household.objects.get(pk=own.pk).household_no == own.household_no


def test_parameters_cannot_be_edited_in_the_admin(client, personas):
    admin_user = _staff(personas["county_admin"], "view_parameter", "change_parameter", "add_parameter")
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    p = Parameter.objects.filter(key="income.monitoring_line", is_active=True).first()
    r = client.post(f"/admin/policy/parameter/{p.pk}/change/", {"value": "1"})
    assert r.status_code == 403
    assert client.get("/admin/policy/parameter/add/").status_code == 403
    p.refresh_from_db()
    assert p.value != 1


def test_params_set_records_the_actor(personas):
    call_command(
        "params_set", "income.monitoring_line", "7800", "--year", "2026", "--region", "410506",
        "--as", "county_admin", "--basis", "县乡村振兴局通知", "--doc-no", "龙乡振〔2026〕1号",
    )  # fmt: skip
    p = Parameter.objects.get(key="income.monitoring_line", region_code="410506", year=2026, is_active=True)
    assert p.created_by == personas["county_admin"] and p.doc_no == "龙乡振〔2026〕1号"
    assert param_value("income.monitoring_line", region_code="410506205201", year=2026) == 7800
    ev = AuditEvent.objects.get(event_type="policy.parameter_set", object_id=str(p.pk))
    assert ev.actor == personas["county_admin"]
    with pytest.raises(CommandError):
        call_command("params_set", "income.monitoring_line", "1", "--year", "2026", "--as", "cadre_a1")
    with pytest.raises(CommandError):  # --as is required
        call_command("params_set", "income.monitoring_line", "1", "--year", "2026")


def test_services_refuse_none_and_name_the_system_actor(personas):
    from fangpin.monitoring.services._common import ensure_in_scope, require_any

    hh = f.household(f.VILLAGE_B1)
    with pytest.raises(TypeError):
        parameter_set(actor=None, key="income.monitoring_line", value=1, year=2026)
    with pytest.raises(TypeError):
        ensure_in_scope(None, hh)
    with pytest.raises(TypeError):
        require_any(None, "registry.view")
    job = system_actor("nightly_test")
    ensure_in_scope(job, hh)  # every village in scope
    assert not job.can("audit.view") and not job.can("registry.export_unmasked")
    p = parameter_set(actor=job, key="income.monitoring_line", value=7700, year=2027)
    ev = AuditEvent.objects.get(event_type="policy.parameter_set", object_id=str(p.pk))
    assert ev.actor is None and ev.actor_role == "system" and ev.data["system_actor"] == "nightly_test"


def test_recert_job_creates_tasks_and_audit_together(db, monkeypatch):
    hh = f.household(f.VILLAGE_A1)
    Recertification.objects.create(household=hh, verified_on=dt.date(2023, 1, 1))
    monkeypatch.setattr(integrations, "monitored_household_ids", lambda on: set())
    import fangpin.trust.services.recert as recert

    def broken(**kw):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(recert, "audit_record", broken)
    with pytest.raises(RuntimeError):
        recert_tasks_generate(on=dt.date(2025, 6, 30))
    assert not Task.objects.exists()  # no tasks without their audit event
    monkeypatch.undo()
    monkeypatch.setattr(integrations, "monitored_household_ids", lambda on: set())
    assert recert_tasks_generate(on=dt.date(2025, 6, 30)) == 1
    ev = AuditEvent.objects.get(event_type="trust.recert_tasks")
    assert ev.data["system_actor"] == "recert_tasks"


def test_user_admin_is_scoped_audited_and_cannot_grant_superuser(client, personas):
    township = _staff(personas["township_a"], "view_user", "change_user")
    client.force_login(township)
    body = client.get("/admin/accounts/user/").content.decode()
    assert "cadre_a1" in body and "cadre_b1" not in body  # another township's users are not listed
    cadre = personas["cadre_a1"]
    page = client.get(f"/admin/accounts/user/{cadre.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page  # read-only for a non-superuser
    data = {
        "username": "cadre_a1", "role": "village_cadre", "region": f.VILLAGE_A1, "is_active": "on",
        "is_superuser": "on", "display_name": "王村干", "date_joined_0": "2025-01-01", "date_joined_1": "08:00:00",
    }  # fmt: skip
    r = client.post(f"/admin/accounts/user/{cadre.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    cadre.refresh_from_db()
    assert not cadre.is_superuser and cadre.display_name == "王村干"
    ev = AuditEvent.objects.get(event_type="accounts.user_change")
    assert ev.actor == township and ev.data["changes"]["display_name"] == ["", "王村干"]
