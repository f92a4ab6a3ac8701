"""The registry tests' files carry a county's own 备注 column (``test_import.HEADERS``, the hand re-saved
fixtures): the mapping question for it was answered once ("不导入"), as a county does on its first upload.
Stored directly (no audit event, so the tests' audit counts stay theirs); test_import_mapping.py tests the
question and the audited answer themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _local_remark_column_answered(request):
    if "personas" not in request.fixturenames:
        return
    admin = request.getfixturevalue("personas")["county_admin"]
    from django.utils import timezone

    from fangpin.registry.io.columns import normalize_header
    from fangpin.registry.io.read import read_head, table_from_rows
    from fangpin.registry.models.imports import ImportMapping

    from .national_file import xlsx_bytes
    from .test_import import HEADERS, good_rows

    files = [("a.xlsx", xlsx_bytes(HEADERS, good_rows()), "备注（本县自加）")]
    files += [(n, (FIXTURES / n).read_bytes(), "备注（乡镇自加）") for n in ("resaved_by_hand.xlsx", "resaved_by_hand_gbk.csv")]  # fmt: skip
    for name, data, header in files:
        table = table_from_rows(read_head(data, name))
        ImportMapping.objects.get_or_create(
            signature=table.signature,
            defaults={
                "headers": [h for h in table.headers if h],
                "columns": {normalize_header(header): ""},
                "saved_by": admin,
                "saved_at": timezone.now(),
            },
        )
