"""`fangpin user …`: user administration from the command line, through the same services and audit."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from fangpin.accounts.models import User
from fangpin.audit.models import AuditEvent
from fangpin.testing.factories import TOWNSHIP_A, VILLAGE_A1


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("user", *args, stdout=out)
    return out.getvalue()


def test_create_edit_deactivate_and_list_as_the_county_admin(personas):
    out = run("create", "new_cadre", "--name", "王村干", "--role", "village_cadre", "--region", VILLAGE_A1,
              "--as", "county_admin")  # fmt: skip
    password = out.rsplit("：", 1)[1].strip()
    u = User.objects.get(username="new_cadre")
    assert u.role == "village_cadre" and u.region_id == VILLAGE_A1 and u.check_password(password)
    assert AuditEvent.objects.filter(event_type="accounts.user_create", object_id=str(u.pk)).exists()

    run("edit", "new_cadre", "--role", "township_reviewer", "--region", TOWNSHIP_A, "--as", "county_admin")
    run("edit", "new_cadre", "--deactivate", "--as", "county_admin")
    u.refresh_from_db()
    assert (u.role, u.region_id, u.is_active) == ("township_reviewer", TOWNSHIP_A, False)
    changes = AuditEvent.objects.filter(event_type="accounts.user_update", object_id=str(u.pk))
    assert changes.count() == 2
    assert "new_cadre" in run("list", "--as", "county_admin") and "（已停用）" in run(
        "list", "--as", "county_admin"
    )


def test_refusals_are_chinese_and_change_nothing(personas):
    with pytest.raises(CommandError, match="无权"):
        run("create", "x", "--role", "village_cadre", "--region", VILLAGE_A1, "--as", "cadre_a1")
    with pytest.raises(CommandError, match="已存在"):
        run("create", "cadre_b1", "--role", "village_cadre", "--region", VILLAGE_A1, "--as", "county_admin")
    with pytest.raises(CommandError, match="不能修改自己"):
        run("edit", "county_admin", "--deactivate", "--as", "county_admin")
    with pytest.raises(CommandError, match="不存在或无权访问"):
        run("edit", "nobody", "--deactivate", "--as", "county_admin")
    assert not User.objects.filter(username="x").exists()
    assert User.objects.get(username="county_admin").is_active
