"""The registry tests' files carry a county's own 备注 column (``test_import.HEADERS``, the hand re-saved
fixtures): the mapping question for it was answered once ("不导入"), as a county does on its first upload,
through the service (test_import_mapping.py tests the question itself)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _local_remark_column_answered(request):
    if "personas" not in request.fixturenames:
        return
    admin = request.getfixturevalue("personas")["county_admin"]
    from fangpin.registry.services.import_mapping import import_mapping_save

    from .national_file import xlsx_bytes
    from .test_import import HEADERS, good_rows

    files = [("a.xlsx", xlsx_bytes(HEADERS, good_rows()), "备注（本县自加）")]
    files += [
        (n, (FIXTURES / n).read_bytes(), "备注（乡镇自加）")
        for n in ("resaved_by_hand.xlsx", "resaved_by_hand_gbk.csv")
    ]
    for name, data, header in files:
        import_mapping_save(actor=admin, file_name=name, data=data, answers={header: "不导入"})
