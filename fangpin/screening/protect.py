"""No clear ID number in a department batch file at rest (issue #17 item 4; docs/parts/security.md).

A batch is stored as Parquet for the engines (``engine.store``), kept up to ``security.retention.department_days``
(400 days). Before it is written, the upload replaces in every row:

- ``id_number`` (the validated, normalised ID) by its **blind index**: HMAC-SM3 under the index key, the very
  value the registry keeps in ``Person.id_number_bidx``. The registry extract carries the same digest as its
  ``join_key``, so the engines join department rows to persons on it exactly as they joined on the clear
  number (DuckDB and Spark, the same SQL): no decryption on the screening path.
- ``id_raw`` (the ID as typed, needed for the one-digit-off comparison of linkage and for the evidence of a hit)
  by an SM4-GCM token (``core.crypto``, purpose ``dept_id_raw``). Only the few rows that go to linkage, and the
  records behind hits, are decrypted (``reveal_ids``).
- ``row_hash`` (the record's content fingerprint that keeps a corrected re-upload from being screened twice)
  is keyed (``core.crypto.row_hash_key``): an unkeyed hash over a record whose other fields are in the same
  file could be inverted by trying the ~10³ IDs a county and birth date leave.

The Parquet footer records ``fangpin.protect = v1`` and the index key id. A file written before (clear IDs)
or under an older index key is rewritten by ``rewrite_current``: for every file by ``reindex_batch_files``
(``fangpin encryption_rotate``), and for the files a screening run reads before it reads them (the registry
extract's join key is the blind index, so a clear file would match nobody).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from fangpin.core import crypto

ID_PURPOSE = "id_number"  # the registry's purpose: the digests agree with Person.id_number_bidx
RAW_PURPOSE = "dept_id_raw"
META_KEY = "fangpin.protect"
META_VALUE = "v1"
META_INDEX = "fangpin.index_key"  # the index key id the file's digests (and row_hash) were made with


def metadata() -> dict[str, str]:
    """The footer of a protected batch file written now."""
    return {META_KEY: META_VALUE, META_INDEX: crypto.keyring().index_current}


def protect_frame(df: pl.DataFrame) -> pl.DataFrame:
    """The batch frame as stored: ``id_number`` → blind index, ``id_raw`` → SM4-GCM token."""
    ids = df["id_number"].to_list()
    raws = df["id_raw"].to_list()
    return df.with_columns(
        pl.Series("id_number", [crypto.blind_index(v, ID_PURPOSE) for v in ids], dtype=pl.String),
        pl.Series("id_raw", crypto.encrypt_many(raws, RAW_PURPOSE), dtype=pl.String),
    )


def reveal(value: object) -> object:
    """The ID as typed from a stored ``id_raw`` (a file written before protection holds it in clear)."""
    if not isinstance(value, str) or not crypto.is_token(value):
        return value
    return crypto.decrypt(value, RAW_PURPOSE)


def _footer(path: str | Path) -> dict[str, str]:
    return {
        k.decode(): v.decode()
        for k, v in (pq.read_metadata(path).metadata or {}).items()
        if k != b"ARROW:schema"
    }


def is_protected(path: str | Path) -> bool:
    return _footer(path).get(META_KEY) == META_VALUE


def file_index_key(path: str | Path) -> str | None:
    """The index key id of a protected file (None: written before protection, clear IDs)."""
    meta = _footer(path)
    if meta.get(META_KEY) != META_VALUE:
        return None
    return meta.get(META_INDEX, crypto.LEGACY_INDEX_ID)


def read_revealed(path: str | Path) -> pl.DataFrame:
    """A batch file with the IDs shown again (``id_raw`` decrypted, ``id_number`` the normalised ID of the
    rows whose ID was valid, recomputed from it and checked against the stored blind index): what
    reviewers' tools and tests read; the engines never need it."""
    from .engine.pipeline import typed_id

    df = pl.read_parquet(path)
    kid = file_index_key(path)
    if kid is None:
        return df
    raws = [reveal(v) for v in df["id_raw"].to_list()]
    ids = []
    for raw, st, stored in zip(raws, df["id_status"].to_list(), df["id_number"].to_list(), strict=True):
        clear = typed_id(raw) if st == "ok" else None
        if clear is not None and crypto.blind_index(clear, ID_PURPOSE, kid) != stored:
            raise crypto.DecryptionError("批次文件的证件号码索引与号码不符")
        ids.append(clear)
    return df.with_columns(
        pl.Series("id_raw", raws, dtype=pl.String), pl.Series("id_number", ids, dtype=pl.String)
    )


def rewrite_current(path: str | Path) -> bool:
    """Re-protects one batch file (and its side file) under the current index key: a file written before
    protection (clear IDs) or under an older index key. Returns whether it was rewritten."""
    from .engine.store import batch_write
    from .sources.parse import row_hash

    path = Path(path)
    if not path.exists() or file_index_key(path) == crypto.keyring().index_current:
        return False
    df = read_revealed(path)
    skip = ("record_key", "batch_id", "row_no", "row_hash", "name_pinyin")
    content = [c for c in df.columns if c not in skip]
    if "row_hash" in df.columns:  # the content fingerprint under the current key, as an upload now makes it
        key = crypto.row_hash_key()
        hashes = [row_hash(list(r), key=key) for r in df.select(content).iter_rows()]
        df = df.with_columns(pl.Series("row_hash", hashes, dtype=pl.Int64))
    tmp = path.with_name(path.name + ".tmp")
    batch_write(protect_frame(df), tmp, metadata=metadata())
    from .engine.store import link_path

    Path(link_path(tmp)).replace(link_path(path))
    tmp.replace(path)
    return True


def reindex_batch_files(dry_run: bool = False) -> dict[str, int]:
    """Every stored batch file not protected under the current index key, rewritten (``encryption_rotate``)."""
    from .models import DeptBatch
    from .registry_export import files_dir

    todo = [
        files_dir() / b.parquet_path
        for b in DeptBatch.objects.exclude(parquet_path="").order_by("pk")
        if (files_dir() / b.parquet_path).exists()
        and file_index_key(files_dir() / b.parquet_path) != crypto.keyring().index_current
    ]
    if not dry_run:
        for p in todo:
            rewrite_current(p)
    return {"screening.DeptBatch files": len(todo)} if todo else {}
