"""How a batch is stored for the engines: the canonical Parquet file plus a small side file holding only
the rows whose ID is missing or unusable (``<batch>.link.parquet``), so that finding the linkage
candidates reads a few thousand rows instead of scanning a 100-million-row file. Django-free: the upload
service and the benchmarks write batches through ``batch_write``."""

from __future__ import annotations

from pathlib import Path

import polars as pl

LINK_SUFFIX = ".link.parquet"


def link_path(path: str | Path) -> str:
    p = str(path)
    return (p[: -len(".parquet")] if p.endswith(".parquet") else p) + LINK_SUFFIX


def batch_write(df: pl.DataFrame, path: Path, *, metadata: dict[str, str] | None = None) -> None:
    """The batch file and its linkage side file (same schema, rows with id_status <> 'ok'). The upload
    passes a frame whose IDs are already protected (``screening.protect``) and marks it in ``metadata``."""
    df.write_parquet(path, metadata=metadata)
    df.filter(pl.col("id_status") != "ok").write_parquet(link_path(path), metadata=metadata)
