"""Apache Spark (PySpark). Local mode in tests and benchmarks; a cluster session can be passed in."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pyarrow as pa

from .base import Engine
from .dialects import SparkDialect

_SESSION = None


def spark_session_local(*, driver_memory: str | None = None):
    """One local[2] session per process (JVM start-up costs ~10 s, so it is reused)."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    b = (
        SparkSession.builder.master(os.environ.get("FANGPIN_SPARK_MASTER", "local[2]"))
        .appName("fangpin-screening")
        .config("spark.driver.memory", driver_memory or os.environ.get("FANGPIN_SPARK_MEMORY", "4g"))
        .config("spark.jars", similarity_jar_location())  # Splink's string-similarity UDFs
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", os.environ.get("FANGPIN_SPARK_SHUFFLE_PARTITIONS", "8"))
    )
    _SESSION = b.getOrCreate()
    _SESSION.sparkContext.setLogLevel("ERROR")
    # Splink breaks long lineages with checkpoints.
    import tempfile

    _SESSION.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="fangpin-spark-ckpt-"))
    return _SESSION


def _local_schema(paths: Sequence[str]):
    """The Spark schema of local Parquet files (unified), or None when they are not local files."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import from_arrow_schema

    if not paths or not all(os.path.exists(p) for p in paths):
        return None
    try:
        schema = pa.unify_schemas([pq.read_schema(p) for p in paths])
    except (OSError, ValueError, pa.ArrowInvalid):
        return None
    fields = [
        pa.field(
            f.name,
            pa.string() if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type) else f.type,
        )
        for f in schema
    ]
    try:
        return from_arrow_schema(pa.schema(fields))
    except (TypeError, NotImplementedError):
        return None


class SparkEngine(Engine):
    name = "spark"
    # Spark takes jobs from several threads; the small departments' queries are latency-bound.
    concurrent_queries = int(os.environ.get("FANGPIN_SPARK_CONCURRENT_QUERIES", "4"))
    batch_queries = os.environ.get("FANGPIN_SPARK_BATCH_QUERIES", "1") == "1"

    def __init__(self, *, session=None) -> None:
        self.dialect = SparkDialect()
        self.spark = session or spark_session_local()

    def register_parquet(self, view: str, paths: Sequence[str]) -> None:
        """With the schema read from the local footers (pyarrow, milliseconds) Spark skips its own
        schema-inference job for every view; files of other schemas (a column added later) unify."""
        reader = self.spark.read
        schema = _local_schema(paths)
        if schema is not None:
            reader = reader.schema(schema)
        reader.parquet(*paths).createOrReplaceTempView(view)

    def register_arrow(self, view: str, table: pa.Table) -> None:
        from pyspark.sql.pandas.types import from_arrow_schema

        # the Arrow schema stated: an empty frame or an all-null column keeps its type
        schema = from_arrow_schema(table.schema)
        if table.num_rows == 0:
            df = self.spark.createDataFrame([], schema=schema)
        else:
            df = self.spark.createDataFrame(table.to_pandas(), schema=schema)
        df.createOrReplaceTempView(view)

    def execute(self, sql: str) -> None:
        self.spark.sql(sql)

    def columns(self, view: str) -> list[str]:
        return list(self.spark.table(view).columns)

    def query(self, sql: str) -> pa.Table:
        return self.spark.sql(sql).toArrow()
