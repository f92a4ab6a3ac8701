"""Registry test fixtures: the mapping answer for the test files' local 备注 column is stored by the
project's root conftest.py (``_local_remark_column_answered``), so every test using those files gets it."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
