"""One spreadsheet writer for everything fangpin produces (formula injection escaped everywhere)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management import call_command

from fangpin.testing import factories as f

ROOT = Path(__file__).resolve().parents[2] / "fangpin"
WRITER = ROOT / "registry" / "io" / "xlsx.py"


def test_check_registry_out_neutralises_formulas(db, tmp_path):
    hh = f.household(f.VILLAGE_A1)
    p = f.person(hh, name='=HYPERLINK("http://x","点")', birth=dt.date(1970, 1, 1))
    p.birth_date = dt.date(1970, 1, 5)  # a finding for this person
    p.save()
    out = tmp_path / "checks.xlsx"
    call_command("check_registry", "--region", f.VILLAGE_A1, "--on", "2026-06-30", "--out", str(out))
    from openpyxl import load_workbook

    wb = load_workbook(out)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [c.value for c in cells if "HYPERLINK" in str(c.value)]
    assert names and all(v.startswith("'=") for v in names)


def test_no_spreadsheet_written_outside_the_one_writer():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "testing" in path.parts or path == WRITER:
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("Workbook(", "csv.writer(", ".to_excel(", "xlsxwriter"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []
