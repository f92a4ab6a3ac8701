"""One code path, two engines: the same SQL runs on DuckDB (default, in process) and on Spark.

``base.Engine`` is the only code that talks to an engine (register data, run SQL, fetch Arrow);
``dialects`` holds every DuckDB/Spark difference; ``rules`` compiles ScreeningRule data to SQL;
``pipeline`` runs a month: ID matching → linkage → rules. Nothing here imports Django models, so the
benchmarks and the service run exactly the same functions.
"""

from __future__ import annotations

from .base import Engine


def engine_open(name: str, *, memory_limit: str = "", spark_session=None) -> Engine:
    """``duckdb`` or ``spark``; Spark is imported only when asked for (JVM start-up is slow)."""
    if name == "duckdb":
        import os

        from .duckdb import DuckDBEngine

        threads = int(os.environ.get("FANGPIN_DUCKDB_THREADS", "0") or 0) or None
        return DuckDBEngine(memory_limit=memory_limit, threads=threads)
    if name == "spark":
        from .spark import SparkEngine

        return SparkEngine(session=spark_session)
    from fangpin.core.errors import DomainError

    raise DomainError("screening_unknown_engine", f"不支持的计算引擎“{name}”（可选 duckdb、spark）")
