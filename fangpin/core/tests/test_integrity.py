"""INT-01: decision records carry an HMAC-SM3 seal; `fangpin integrity verify` names rows changed behind the
application. Runs on SQLite and on PostgreSQL (the suite's second run)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from fangpin.audit.models import AuditEvent
from fangpin.core import crypto
from fangpin.core.integrity import integrity_reseal, integrity_verify
from fangpin.monitoring.models import Case, CaseStep, Measure, MonitoringObject
from fangpin.monitoring.services import cases, identification, leads
from fangpin.monitoring.tests.helpers import poor_exited_household, run_village_steps
from fangpin.registry.models import IncomeRecord
from fangpin.testing import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.tampers_seals]
J = dt.date


def _raw(sql: str, params: list) -> None:
    """A change that bypasses the application entirely (what a DBA with a SQL console could do)."""
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("integrity", "verify", *args, stdout=out)
    except CommandError as e:
        return 1, out.getvalue() + str(e)
    return 0, out.getvalue()


def _approved_identification(personas):
    """A household through the whole identification chain: a monitoring object, a case, its steps."""
    cadre, township, county = personas["cadre_a1"], personas["township_a"], personas["county_reviewer"]
    hh = poor_exited_household(per_capita=5000, year=2024)
    lead = leads.lead_submit(
        actor=cadre, household=hh, channel="cadre_visit", risk_types=["因病"], on=J(2025, 6, 2)
    )
    case = identification.case_open(actor=cadre, lead=lead, on=J(2025, 6, 2))
    end = run_village_steps(case, cadre, start=J(2025, 6, 2))
    cases.case_step_complete(actor=township, case=case, step="township", on=end)
    cases.case_step_complete(actor=county, case=case, step="county", on=end)
    case.refresh_from_db()
    assert case.status == "approved" and case.monitoring_object_id
    return hh, case


def test_untouched_records_verify_after_every_kind_of_application_write(personas):
    hh, case = _approved_identification(personas)
    inc = f.income(hh, year=2025, wage=12000.5)
    inc.wage = 13000  # save()
    inc.save()
    inc.note = "改备注"
    inc.save(update_fields=["note"])  # a field outside the seal
    inc.transfer_dibao = 600
    inc.save(update_fields=["transfer_dibao"])  # a sealed field, the others not given
    IncomeRecord.objects.filter(pk=inc.pk).update(property_income=88)  # QuerySet.update
    more = IncomeRecord.objects.bulk_create([IncomeRecord(household=hh, period_start=J(2023, 1, 1),
                                                          period_end=J(2023, 12, 31), wage=9000)])  # fmt: skip
    more[0].wage = 9100
    IncomeRecord.objects.bulk_update(more, ["wage"])
    CaseStep.objects.filter(case=case, code="verify").update(data={"findings": "复核"})
    res = integrity_verify()
    assert res.ok, [t.as_dict() for t in res.tampered]
    checked = res.checked
    assert checked["registry.IncomeRecord"] == 3 and checked["monitoring.Case"] == 1
    assert checked["monitoring.MonitoringObject"] == 1 and checked["monitoring.CaseStep"] >= 5
    assert IncomeRecord.objects.get(pk=inc.pk).property_income == 88  # the update itself happened
    code, out = _verify()
    assert code == 0 and "全部一致" in out
    ev = AuditEvent.objects.filter(event_type="core.integrity_verify").latest("seq")
    assert ev.result == "ok" and ev.data["failed"] == 0


def test_income_figure_changed_with_raw_sql_is_named(personas):
    hh = f.household(f.VILLAGE_A1)
    other = f.household(f.VILLAGE_A1)
    inc = f.income(hh, year=2024, wage=15000)
    f.income(other, year=2024, wage=15000)
    assert _verify()[0] == 0
    _raw(f"UPDATE {IncomeRecord._meta.db_table} SET wage = %s WHERE id = %s", ["45000.00", inc.pk])
    res = integrity_verify()
    assert [(t.model, t.pk) for t in res.tampered] == [("registry.IncomeRecord", inc.pk)]
    assert hh.household_no in res.tampered[0].label and "校验码不符" in res.tampered[0].reason
    code, out = _verify()
    assert code == 1 and f"registry.IncomeRecord #{inc.pk}" in out and hh.household_no in out
    assert other.household_no not in out
    code, out = _verify("--format", "json", "--model", "收入记录")
    doc = json.loads(out.splitlines()[0])
    assert code == 1 and doc["ok"] is False and list(doc["checked"]) == ["registry.IncomeRecord"]
    assert [(t["model"], t["pk"]) for t in doc["tampered"]] == [("registry.IncomeRecord", inc.pk)]
    ev = AuditEvent.objects.filter(event_type="core.integrity_verify").latest("seq")
    assert ev.result == "refused" and ev.data["rows"] == [["registry.IncomeRecord", inc.pk]]


def test_case_decision_and_approval_changed_behind_the_app_are_named(personas):
    hh, case = _approved_identification(personas)
    step = case.steps.get(code="county")
    obj = MonitoringObject.objects.get(pk=case.monitoring_object_id)
    _raw(f"UPDATE {Case._meta.db_table} SET result_reason = %s WHERE id = %s", ["县级审定不同意", case.pk])
    _raw(
        f"UPDATE {CaseStep._meta.db_table} SET actor_id = %s WHERE id = %s",
        [personas["cadre_a1"].pk, step.pk],
    )
    _raw(
        f"UPDATE {MonitoringObject._meta.db_table} SET category = %s WHERE id = %s", ["边缘易致贫户", obj.pk]
    )
    res = integrity_verify()
    named = {(t.model, t.pk) for t in res.tampered}
    assert named == {("monitoring.Case", case.pk), ("monitoring.CaseStep", step.pk),
                     ("monitoring.MonitoringObject", obj.pk)}  # fmt: skip
    labels = " ".join(t.label for t in res.tampered)
    assert hh.household_no in labels and f"办理程序编号 {case.pk}" in labels


def test_blanked_seal_copied_row_and_measure_amount_are_caught(personas):
    hh, case = _approved_identification(personas)
    obj = MonitoringObject.objects.get(pk=case.monitoring_object_id)
    m1 = Measure.objects.create(monitoring_object=obj, household=hh, name="产业奖补", kind="developmental",
                                start_on=J(2025, 7, 1), amount=2000)  # fmt: skip
    m2 = Measure.objects.create(monitoring_object=obj, household=hh, name="产业奖补", kind="developmental",
                                start_on=J(2025, 7, 1), amount=200)  # fmt: skip
    inc = f.income(hh, year=2025, wage=1)
    t = Measure._meta.db_table
    # m2 takes m1's amount *and* m1's seal: the seal binds the row's id, so the copy does not verify
    _raw(f"UPDATE {t} SET amount = %s, integrity_mac = (SELECT integrity_mac FROM {t} WHERE id = %s) WHERE id = %s",
         ["2000.00", m1.pk, m2.pk])  # fmt: skip
    _raw(f"UPDATE {IncomeRecord._meta.db_table} SET integrity_mac = '' WHERE id = %s", [inc.pk])
    res = integrity_verify()
    by = {(t.model, t.pk): t.reason for t in res.tampered}
    assert set(by) == {("monitoring.Measure", m2.pk), ("registry.IncomeRecord", inc.pk)}
    assert "未加校验码" in by[("registry.IncomeRecord", inc.pk)]


def test_key_rotation_reseals_what_verifies_and_refuses_what_does_not(personas):
    hh = f.household(f.VILLAGE_A1)
    good, bad = f.income(hh, year=2023, wage=100), f.income(hh, year=2024, wage=200)
    _raw(f"UPDATE {IncomeRecord._meta.db_table} SET wage = 900 WHERE id = %s", [bad.pk])
    keys = {"k2": os.urandom(16), "dev1": crypto.dev_key("data")}
    with override_settings(FANGPIN_DATA_KEYS=keys, FANGPIN_DATA_KEY_ID="k2"):
        assert {t.pk for t in integrity_verify().tampered} == {bad.pk}  # old seals verify under dev1
        res = integrity_reseal()
        assert res.resealed["registry.IncomeRecord"] == 1 and [t.pk for t in res.refused] == [bad.pk]
        stored = dict(IncomeRecord.objects.values_list("pk", "integrity_mac"))
        assert stored[good.pk].startswith("k2:") and stored[bad.pk].startswith("dev1:")
        with pytest.raises(CommandError):
            call_command("integrity", "seal", stdout=io.StringIO())
        assert AuditEvent.objects.filter(event_type="core.integrity_seal", result="refused").exists()
        # without the old key, the re-sealed row still verifies; the refused one is still named
        with override_settings(FANGPIN_DATA_KEYS={"k2": keys["k2"]}, FANGPIN_DATA_KEY_ID="k2"):
            res = integrity_verify()
            assert [(t.pk, "密钥 dev1" in t.reason) for t in res.tampered] == [(bad.pk, True)]


def test_importer_bulk_path_seals_with_the_allocated_ids(personas):
    from fangpin.registry.io.bulk import fast_create_with_history

    hh = f.household(f.VILLAGE_A1)
    ids = fast_create_with_history(
        IncomeRecord,
        [{"household_id": hh.pk, "period_start": J(2022, 1, 1), "period_end": J(2022, 12, 31), "wage": "1234.5"},
         {"household_id": hh.pk, "period_start": J(2021, 1, 1), "period_end": J(2021, 12, 31),
          "excluded": {"慰问金": 500}}],
        history_user_id=None, change_reason="test", now=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    assert len(ids) == 2 and integrity_verify().ok
    _raw(
        f"UPDATE {IncomeRecord._meta.db_table} SET excluded = %s WHERE id = %s", ['{"慰问金": 50000}', ids[1]]
    )
    assert [t.pk for t in integrity_verify().tampered] == [ids[1]]


def test_own_integrity_keys_take_over_and_old_seals_still_verify(personas):
    hh = f.household(f.VILLAGE_A1)
    old = f.income(hh, year=2023, wage=100)
    with override_settings(FANGPIN_INTEGRITY_KEYS={"s1": os.urandom(32)}):
        new = f.income(hh, year=2024, wage=200)
        stored = dict(IncomeRecord.objects.values_list("pk", "integrity_mac"))
        assert stored[new.pk].startswith("s1:") and stored[old.pk].startswith("dev1:")
        assert integrity_verify().ok
        assert integrity_reseal().resealed["registry.IncomeRecord"] == 1
        assert all(v.startswith("s1:") for v in IncomeRecord.objects.values_list("integrity_mac", flat=True))
    # back without the deployment's key: its seals cannot be checked, and say so
    assert {t.pk for t in integrity_verify().tampered} == {old.pk, new.pk}


def test_encryption_rotate_reseals_the_decision_records_too(personas):
    from fangpin.accounts.actors import system_actor
    from fangpin.core.rotation import encryption_rotate

    hh = f.household(f.VILLAGE_A1)
    good, bad = f.income(hh, year=2023, wage=100), f.income(hh, year=2024, wage=200)
    _raw(f"UPDATE {IncomeRecord._meta.db_table} SET wage = 900 WHERE id = %s", [bad.pk])
    keys = {"k2": os.urandom(16), "dev1": crypto.dev_key("data")}
    with override_settings(FANGPIN_DATA_KEYS=keys, FANGPIN_DATA_KEY_ID="k2"):
        res = encryption_rotate(actor=system_actor("test"))
        assert res.seals == {"registry.IncomeRecord": 1} and res.seals_refused == [
            ["registry.IncomeRecord", bad.pk]
        ]
        ev = AuditEvent.objects.filter(event_type="security.key_rotate").latest("seq")
        assert ev.data["seals_refused"] == [["registry.IncomeRecord", bad.pk]]
    with override_settings(FANGPIN_DATA_KEYS={"k2": keys["k2"]}, FANGPIN_DATA_KEY_ID="k2"):
        assert [t.pk for t in integrity_verify().tampered] == [bad.pk]  # the good one verifies without dev1
        assert IncomeRecord.objects.get(pk=good.pk).integrity_mac.startswith("k2:")


def test_seal_ignores_key_order_of_documents_but_not_their_content():
    """PostgreSQL's jsonb returns an object's keys in its own order; the seal must not depend on it."""
    from fangpin.core.integrity import seal_for

    row = {"case_id": 1, "code": "deliberate", "seq": 3, "status": "done", "completed_on": J(2025, 6, 4),
           "actor_id": 7, "data": {"votes_for": 13, "meeting_on": "2025-06-04", "nested": {"b": 1, "a": [2, {"y": 0, "x": 1}]}}}  # fmt: skip
    same = {
        **row,
        "data": {"nested": {"a": [2, {"x": 1, "y": 0}], "b": 1}, "meeting_on": "2025-06-04", "votes_for": 13},
    }
    other = {**row, "data": {**row["data"], "votes_for": 14}}
    assert seal_for(CaseStep, 5, row) == seal_for(CaseStep, 5, same) != seal_for(CaseStep, 5, other)
    assert seal_for(CaseStep, 5, row) != seal_for(CaseStep, 6, row)  # bound to the row's id
