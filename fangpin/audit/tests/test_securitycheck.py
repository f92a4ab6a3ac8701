"""DEP-03: `securitycheck --mlps3` reads the live settings and data; breaking one setting fails its line."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from fangpin.accounts.actors import system_actor
from fangpin.accounts.models import User
from fangpin.audit.mlps import DEPLOYER, FAIL, MISSING, PASS, mlps3_report
from fangpin.audit.models import AuditEvent
from fangpin.audit.record import audit_record
from fangpin.core.tasks import run_integrity_verify
from fangpin.registry.models import IncomeRecord
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db
PROD = {  # what production runs with (the test settings switch lockout and the second factor off)
    "AXES_ENABLED": True,
    "AXES_FAILURE_LIMIT": 5,
    "AXES_COOLOFF_TIME": dt.timedelta(minutes=30),
    "FANGPIN_OTP_ROLES": frozenset({"county_admin", "county_reviewer", "township_reviewer", "auditor"}),
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.Argon2PasswordHasher"],
}


def _status(clause: str, item_part: str = "") -> str:
    return next(c.status for c in mlps3_report() if c.clause == clause and item_part in c.item)


@override_settings(**PROD)
def test_production_settings_pass_and_each_broken_setting_fails_its_line(personas):
    audit_record(actor=system_actor("restore_drill"), event_type="core.restore_drill", data={})
    run_integrity_verify()
    lines = {(c.clause, c.item): c.status for c in mlps3_report()}
    assert FAIL not in lines.values(), [k for k, v in lines.items() if v == FAIL]
    assert MISSING not in lines.values()  # INT-01 was the last item not built
    assert _status("8.1.4.9 b") == DEPLOYER  # off-site WAL archiving is shown by the deployment
    with override_settings(AXES_FAILURE_LIMIT=10):
        assert _status("8.1.4.1 b", "锁定") == FAIL
    with override_settings(FANGPIN_SESSION_IDLE_MINUTES=120):
        assert _status("8.1.4.1 b", "超时") == FAIL
    with override_settings(FANGPIN_OTP_ROLES=frozenset({"county_admin"})):
        assert _status("8.1.4.1 d") == FAIL
    with override_settings(AUTH_PASSWORD_VALIDATORS=[]):
        assert _status("8.1.4.1 a") == FAIL
    User.objects.create(username="root", is_superuser=True, role="county_admin")
    assert _status("8.1.4.2 a/b") == FAIL


@override_settings(**PROD)
def test_restore_drill_age_and_audit_chain_are_read_from_the_data(personas):
    assert _status("8.1.4.9 a") == FAIL  # no drill recorded
    audit_record(actor=system_actor("restore_drill"), event_type="core.restore_drill", data={})
    assert _status("8.1.4.9 a") == PASS
    with time_machine.travel(timezone.now() + dt.timedelta(days=40)):  # a month later, no new drill
        assert _status("8.1.4.9 a") == FAIL
    assert _status("8.1.4.3 c") == PASS  # chain, checkpoints and the append-only triggers


@override_settings(**PROD)
def test_the_command_prints_the_table_audits_itself_and_strict_fails(personas):
    out = io.StringIO()
    call_command("securitycheck", "--mlps3", stdout=out)
    text = out.getvalue()
    assert text.startswith("| 条款 | 要求 | 状态 | 证据 |") and "8.1.4.9 a" in text and "不通过" in text
    ev = AuditEvent.objects.filter(event_type="audit.securitycheck").latest("seq")
    assert ev.result == "refused" and "8.1.4.9 a" in ev.data["failed"]
    with pytest.raises(CommandError, match="8.1.4.9 a"):
        call_command("securitycheck", "--mlps3", "--strict", stdout=io.StringIO())


@pytest.mark.tampers_seals
@override_settings(**PROD)
def test_integrity_line_recomputes_the_seals_now_and_dates_the_last_verify(personas):
    from django.db import connection

    hh = f.household(f.VILLAGE_A1)
    inc = f.income(hh, year=2024, wage=15000)
    assert _status("8.1.4.7 b") == FAIL  # no verify run recorded yet
    run_integrity_verify()
    assert _status("8.1.4.7 b") == PASS
    with time_machine.travel(timezone.now() + dt.timedelta(days=5)):  # the nightly job stopped
        assert _status("8.1.4.7 b") == FAIL
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {IncomeRecord._meta.db_table} SET wage = 1 WHERE id = %s", [inc.pk])
    line = next(c for c in mlps3_report() if c.clause == "8.1.4.7 b")
    assert line.status == FAIL and hh.household_no in line.evidence  # found now, before any verify run


@pytest.mark.tampers_seals
@override_settings(**PROD)
def test_integrity_line_names_a_record_deleted_after_the_checkpoint(personas, tmp_path):
    from django.db import connection

    hh = f.household(f.VILLAGE_A1)
    inc = f.income(hh, year=2024, wage=15000)
    with override_settings(FANGPIN_INTEGRITY_CHECKPOINT=tmp_path / "cp.jsonl"):
        assert "尚无完整性检查点" in next(c for c in mlps3_report() if c.clause == "8.1.4.7 b").evidence
        assert run_integrity_verify(checkpoint=True).checkpoint_written
        line = next(c for c in mlps3_report() if c.clause == "8.1.4.7 b")
        assert line.status == PASS and "完整性检查点 1 行" in line.evidence
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {IncomeRecord._meta.db_table} WHERE id = %s", [inc.pk])
        line = next(c for c in mlps3_report() if c.clause == "8.1.4.7 b")
        assert line.status == FAIL and f"收入记录#{inc.pk}：记录已被删除" in line.evidence
