"""DuckDB in process: the default engine (optional memory limit from FANGPIN_DUCKDB_MEMORY_LIMIT)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from .base import Engine
from .dialects import DuckDBDialect


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, *, memory_limit: str = "", threads: int | None = None) -> None:
        self.dialect = DuckDBDialect()
        self.con = duckdb.connect()
        self.con.execute("SET preserve_insertion_order = false")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._arrow: dict[str, pa.Table] = {}

    def register_parquet(self, view: str, paths: Sequence[str]) -> None:
        files = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
        self.con.execute(
            f"CREATE OR REPLACE TEMPORARY VIEW {view} AS SELECT * FROM read_parquet([{files}], union_by_name = true)"
        )

    def register_arrow(self, view: str, table: pa.Table) -> None:
        self._arrow[view] = table  # keep a reference: DuckDB scans it in place
        self.con.register(view, table)

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def create_view(self, view: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMPORARY VIEW {view} AS {sql}")

    def columns(self, view: str) -> list[str]:
        return list(self.con.sql(f"SELECT * FROM {view}").columns)

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()
