"""The engine interface: register tables, run SQL, fetch Arrow. Implementations: duckdb.py, spark.py."""

from __future__ import annotations

import abc
from collections.abc import Sequence

import pyarrow as pa

from .dialects import Dialect


class Engine(abc.ABC):
    name: str
    dialect: Dialect
    concurrent_queries: int = 1  # queries the pipeline may submit at once (threads)
    # True: the departments' queries run as one job (UNION ALL of JSON rows) — Spark, where every job
    # pays seconds of planning and scheduling; False: one query each (DuckDB).
    batch_queries: bool = False

    @abc.abstractmethod
    def register_parquet(self, view: str, paths: Sequence[str]) -> None:
        """A view over Parquet files (read lazily by the engine)."""

    def register_many(self, views: dict[str, Sequence[str]]) -> None:
        """Several Parquet views at once (an engine may read their footers together)."""
        for view, paths in views.items():
            self.register_parquet(view, paths)

    @abc.abstractmethod
    def register_arrow(self, view: str, table: pa.Table) -> None:
        """A small in-memory table (links, thresholds) visible to SQL under ``view``."""

    @abc.abstractmethod
    def execute(self, sql: str) -> None:
        """DDL such as CREATE VIEW."""

    @abc.abstractmethod
    def query(self, sql: str) -> pa.Table:
        """Run a query and bring the (small) result back as Arrow."""

    def columns(self, view: str) -> list[str]:
        """The column names of a view (no scan)."""
        return list(self.query(f"SELECT * FROM {view} LIMIT 0").column_names)

    def create_view(self, view: str, sql: str) -> None:
        self.execute(f"CREATE OR REPLACE TEMPORARY VIEW {view} AS {sql}")

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
