"""Deleted decision records (INT-01): the signed checkpoint outside the database anchors which sealed rows
exist; `fangpin integrity verify` names every anchored row that is gone, and a forged checkpoint line.
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from fangpin.audit.models import AuditEvent
from fangpin.core import seal_checkpoint as sc
from fangpin.core.tasks import integrity_verify_periodic, run_integrity_verify
from fangpin.monitoring.models import CaseEvent
from fangpin.registry.models import IncomeRecord
from fangpin.testing import factories as f

from .test_integrity import _approved_identification

pytestmark = [pytest.mark.django_db, pytest.mark.tampers_seals]


@pytest.fixture
def cp_file(tmp_path):
    path = tmp_path / "integrity-checkpoint.jsonl"
    with override_settings(FANGPIN_INTEGRITY_CHECKPOINT=path):
        yield path


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("integrity", "verify", *args, stdout=out)
    except CommandError as e:
        return 1, out.getvalue() + str(e)
    return 0, out.getvalue()


def test_a_deleted_income_record_and_case_event_are_named(personas, cp_file):
    hh, case = _approved_identification(personas)
    incs = [f.income(hh, year=y, wage=1000 + y) for y in (2021, 2022, 2023)]
    code, out = _verify("--checkpoint")
    assert code == 0 and "已写入新的一行" in out
    line = json.loads(cp_file.read_text().splitlines()[0])
    ids = list(IncomeRecord.objects.order_by("pk").values_list("pk", flat=True))  # the household's own, too
    assert line["key"] == "dev1" and line["tables"]["registry.IncomeRecord"] == [[ids[0], incs[-1].pk]]
    ev = CaseEvent.objects.filter(case=case, kind="approved").last()
    _raw(f"DELETE FROM {IncomeRecord._meta.db_table} WHERE id = %s", [incs[1].pk])
    _raw(f"DELETE FROM {CaseEvent._meta.db_table} WHERE id = %s", [ev.pk])
    code, out = _verify("--checkpoint")
    assert code == 1
    assert f"被删除：收入记录（registry.IncomeRecord #{incs[1].pk}）" in out
    assert f"被删除：办理记录（monitoring.CaseEvent #{ev.pk}）" in out and "记录已被删除" in out
    assert f"#{incs[0].pk}）" not in out and f"#{incs[2].pk}）" not in out
    assert len(cp_file.read_text().splitlines()) == 1  # a failing run anchors nothing
    audit = AuditEvent.objects.filter(event_type="core.integrity_verify").latest("seq")
    assert audit.result == "refused" and audit.data["deleted"] == 2
    assert ["registry.IncomeRecord", incs[1].pk] in audit.data["rows"]


def test_rows_after_a_checkpoint_are_anchored_by_the_next_line_only(personas, cp_file):
    hh = f.household(f.VILLAGE_A1)
    first = f.income(hh, year=2021, wage=1)
    assert integrity_verify_periodic.call_local()["checkpoint_written"] is True  # the nightly job anchors
    later = f.income(hh, year=2022, wage=2)
    # not anchored yet: a row inserted and deleted between two checkpoints is the window (like the audit's)
    res = run_integrity_verify()
    assert res.ok and not res.checkpoint_written and res.checkpoint_lines == 1
    assert run_integrity_verify(checkpoint=True).checkpoint_written
    lines = [json.loads(x) for x in cp_file.read_text().splitlines()]
    assert lines[0]["tables"]["registry.IncomeRecord"] == [[first.pk, first.pk]]
    assert lines[1]["tables"]["registry.IncomeRecord"] == [[later.pk, later.pk]]
    assert not run_integrity_verify(checkpoint=True).checkpoint_written  # nothing new: no empty line
    _raw(f"DELETE FROM {IncomeRecord._meta.db_table} WHERE id = %s", [later.pk])
    res = run_integrity_verify()
    assert [(t.model, t.pk) for t in res.tampered] == [("registry.IncomeRecord", later.pk)]


def test_a_forged_or_unknown_key_checkpoint_line_is_reported(personas, cp_file):
    hh = f.household(f.VILLAGE_A1)
    inc = f.income(hh, year=2021, wage=1)
    assert run_integrity_verify(checkpoint=True).checkpoint_written
    line = json.loads(cp_file.read_text())
    # someone "removes" the id from the anchor (to hide a deletion): the signature no longer holds
    line["tables"]["registry.IncomeRecord"] = []
    cp_file.write_text(json.dumps(line) + "\n" + json.dumps({**line, "key": "nokey"}) + "\nnot json\n")
    res = run_integrity_verify()
    assert not res.ok and not res.tampered
    assert res.checkpoint_problems == [
        "完整性检查点第1行签名无效（检查点文件被改动）",
        "完整性检查点第2行的签名密钥 nokey 不在密钥列表中",
        "完整性检查点第3行无法解析（检查点文件被改动）",
    ]
    code, out = _verify()
    assert code == 1 and "检查点：完整性检查点第1行签名无效" in out
    assert inc.pk  # the row itself is fine


def test_scan_names_missing_ids_in_runs_and_counts_beyond_the_limit(monkeypatch):
    present = [1, 2, 4, 7, 8, 9, 20, 21]  # 3, 5, 6 anchored and gone; 20, 21 new
    monkeypatch.setattr(sc, "_ids", lambda model, using: iter(present))
    runs = [(1, 6, "2026-01-01T00:00:00"), (7, 9, "2026-01-02T00:00:00"), (12, 13, "2026-01-03")]
    missing, n, new = sc._scan(IncomeRecord, runs, "default")
    assert [pk for pk, _ in missing] == [3, 5, 6, 12, 13] and n == 5
    assert missing[-1][1] == "2026-01-03" and new == [[20, 21]]
    monkeypatch.setattr(sc, "NAMED_PER_TABLE", 2)
    missing, n, new = sc._scan(IncomeRecord, runs, "default")
    assert [pk for pk, _ in missing] == [3, 5] and n == 5
    monkeypatch.setattr(sc, "_ids", lambda model, using: iter([]))
    assert sc._scan(IncomeRecord, [(1, 1_000_000, "x")], "default")[1] == 1_000_000  # a truncated table
