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


class SparkEngine(Engine):
    name = "spark"
    # Spark takes jobs from several threads; the small departments' queries are latency-bound.
    concurrent_queries = int(os.environ.get("FANGPIN_SPARK_CONCURRENT_QUERIES", "4"))

    def __init__(self, *, session=None) -> None:
        self.dialect = SparkDialect()
        self.spark = session or spark_session_local()

    def register_parquet(self, view: str, paths: Sequence[str]) -> None:
        self.spark.read.parquet(*paths).createOrReplaceTempView(view)

    def register_arrow(self, view: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            # createDataFrame of an empty pandas frame loses the schema: go through an empty SQL select.
            from pyspark.sql.pandas.types import from_arrow_schema

            df = self.spark.createDataFrame([], schema=from_arrow_schema(table.schema))
        else:
            df = self.spark.createDataFrame(table.to_pandas())
        df.createOrReplaceTempView(view)

    def execute(self, sql: str) -> None:
        self.spark.sql(sql)

    def query(self, sql: str) -> pa.Table:
        return self.spark.sql(sql).toArrow()

    def splink_api(self):
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=self.spark)
