"""Backup and restore of the system of record (等保 8.1.4.9 a, BAK-01/02), SQLite and PostgreSQL.

- SQLite: the online backup API (a consistent page copy: tables, indexes and the audit table's
  append-only triggers).
- PostgreSQL: ``pg_dump -Fc`` (custom format: schema, data, functions and triggers — the audit table's
  ``audit_event_append_only`` trigger comes back with it) and ``pg_restore`` into an empty database.

The file written is encrypted: the database's own dump (kept owner-only and removed once sealed) goes
through SM4-GCM in 1 MiB chunks (``core.crypto.seal_stream``: per-chunk nonce, header, position and
last-chunk flag authenticated) under a key derived from the current data key (``FANGPIN_DATA_KEYS``; the key
id is in the file header, so a backup restores after a key rotation while the old key is still listed).

Next to each backup a manifest (``<file>.manifest.json``) holds the file's SHA-256 and, per table, the row
count and a content hash, plus the audit chain head, the encryption header and the SHA-256 of the clear
dump. ``backup_restore`` checks the file's digest, decrypts into an owner-only temporary directory, checks
the clear dump's digest, restores and ``database_fingerprint`` compares a restored database with the manifest, so a restore drill
proves the copy is complete."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from django.db import connection as default_connection

from . import crypto
from .errors import DomainError

E_BACKUP = "backup_failed"
E_RESTORE = "restore_failed"
MANIFEST_SUFFIX = ".manifest.json"


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _norm(v: Any) -> str:
    """One text form per value whichever driver read it (Django's SQLite cursor converts dates and
    decimals, a plain sqlite3 cursor does not)."""
    if v is None:
        return "\x00"
    if isinstance(v, memoryview):
        v = v.tobytes()
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, (bool, int, float, Decimal)):
        return repr(float(v))
    return str(v)


def fingerprint_rows(cursor, tables: list[str], quote) -> dict[str, dict[str, Any]]:
    """{table: {"rows": n, "sha256": hash of every row, ordered}} through a DB-API cursor."""
    out = {}
    for t in sorted(tables):
        cursor.execute(f"SELECT * FROM {quote(t)}")
        rows = sorted("\x1f".join(_norm(v) for v in r) for r in cursor.fetchall())
        h = hashlib.sha256()
        for r in rows:
            h.update(r.encode())
            h.update(b"\x1e")
        out[t] = {"rows": len(rows), "sha256": h.hexdigest()}
    return out


def connection_url(conn=None) -> str:
    """The URL of a Django connection's database (for a connection of our own)."""
    conn = conn or default_connection
    sd = conn.settings_dict
    if conn.vendor == "sqlite":
        return f"sqlite:///{sd['NAME']}"
    auth = sd.get("USER") or "postgres"
    if sd.get("PASSWORD"):
        auth += f":{quote(str(sd['PASSWORD']), safe='')}"
    return f"postgres://{auth}@{sd.get('HOST') or '127.0.0.1'}:{sd.get('PORT') or 5432}/{sd['NAME']}"


def _pg_env(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["-h", settings_dict.get("HOST") or "127.0.0.1", "-p", str(settings_dict.get("PORT") or 5432)]
    if settings_dict.get("USER"):
        args += ["-U", settings_dict["USER"]]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return args, env


def _dump(conn, out: Path) -> None:
    """The database's own backup into ``out`` (clear, owner-only; the caller seals it and removes it)."""
    os.close(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    if conn.vendor == "sqlite":
        dst = sqlite3.connect(str(out))
        try:
            conn.connection.backup(dst)
        finally:
            dst.close()
    elif conn.vendor == "postgresql":
        args, env = _pg_env(conn.settings_dict)
        r = subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "--no-privileges", *args, "-f", str(out), conn.settings_dict["NAME"]],
            env=env,
            capture_output=True,
            text=True,
        )  # fmt: skip
        if r.returncode != 0:
            raise DomainError(E_BACKUP, f"pg_dump 失败：{r.stderr.strip()[:300]}")
    else:
        raise DomainError(E_BACKUP, f"不支持的数据库：{conn.vendor}")


def backup_create(out: Path | str, *, conn=None) -> BackupResult:
    """Writes a backup of the system of record to ``out`` and its manifest next to it."""
    conn = conn or default_connection
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    conn.ensure_connection()
    plain = out.with_name(out.name + ".plain.tmp")  # the clear dump lives only until it is sealed
    try:
        _dump(conn, plain)
        plain_sha = _sha256(plain)
        with plain.open("rb") as src, out.open("wb") as dst:
            enc = crypto.seal_stream(src, dst)
    finally:
        plain.unlink(missing_ok=True)
    head = None
    with conn.cursor() as cur:
        cur.execute("SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1")
        head = cur.fetchone()
    manifest = {
        "engine": conn.vendor,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "file": out.name,
        "sha256": _sha256(out),
        "size": out.stat().st_size,
        # the file is SM4-GCM in chunks (core.crypto.seal_stream) under a key derived from the data key
        "encryption": {"alg": enc["alg"], "key_id": enc["key_id"], "chunk": enc["chunk"]},
        "plain_sha256": plain_sha,
        "audit_head": {"seq": head[0], "hash": head[1]} if head else None,
        # read through a connection of its own, like pg_dump: committed data, same driver as a restore check
        "tables": fingerprint_url(connection_url(conn)),
    }
    Path(str(out) + MANIFEST_SUFFIX).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return BackupResult(out, manifest, time.perf_counter() - t0)


def manifest_read(backup: Path | str) -> dict[str, Any]:
    path = Path(str(backup) + MANIFEST_SUFFIX)
    if not path.exists():
        raise DomainError(E_RESTORE, f"缺少备份清单 {path.name}")
    return json.loads(path.read_text(encoding="utf-8"))


def backup_restore(backup: Path | str, *, database_url: str) -> float:
    """Restores ``backup`` into the *empty* database at ``database_url`` (a new SQLite file, or an empty
    PostgreSQL database). Refuses a file whose digest differs from its manifest. Returns seconds taken."""
    backup = Path(backup)
    manifest = manifest_read(backup)
    if _sha256(backup) != manifest["sha256"]:
        raise DomainError(E_RESTORE, "备份文件与清单的 SHA-256 不一致（文件损坏或被改动），拒绝恢复")
    t0 = time.perf_counter()
    url = urlparse(database_url)
    with tempfile.TemporaryDirectory(prefix="fangpin-restore-") as tmp:
        plain = Path(tmp) / "backup.plain"  # owner-only directory; removed whatever happens
        _unseal(backup, plain, manifest)
        _restore_plain(plain, manifest, url)
    return time.perf_counter() - t0


def _unseal(backup: Path, plain: Path, manifest: dict[str, Any]) -> None:
    if not crypto.is_sealed_stream(backup):
        raise DomainError(E_RESTORE, "备份文件未加密（不是 fangpin backup 生成的加密备份），拒绝恢复")
    try:
        with backup.open("rb") as src, plain.open("wb") as dst:
            crypto.open_stream(src, dst)
    except crypto.MissingKeyError as e:
        raise DomainError(E_RESTORE, f"无法解密备份：{e}（请配置备份时所用的数据密钥）") from None
    except crypto.DecryptionError as e:
        raise DomainError(E_RESTORE, f"无法解密备份：{e}") from None
    if manifest.get("plain_sha256") and _sha256(plain) != manifest["plain_sha256"]:
        raise DomainError(E_RESTORE, "解密后的备份与清单的 SHA-256 不一致，拒绝恢复")


def _restore_plain(backup: Path, manifest: dict[str, Any], url) -> None:
    if manifest["engine"] == "sqlite":
        if url.scheme != "sqlite":
            raise DomainError(E_RESTORE, "SQLite 备份只能恢复到 SQLite 数据库")
        target = Path(url.path[1:] if url.path.startswith("//") else url.path)
        if target.exists() and target.stat().st_size > 0:
            raise DomainError(E_RESTORE, f"目标数据库 {target} 已存在且非空；请恢复到新的数据库文件")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup, target)
    elif manifest["engine"] == "postgresql":
        if url.scheme not in ("postgres", "postgresql"):
            raise DomainError(E_RESTORE, "PostgreSQL 备份只能恢复到 PostgreSQL 数据库")
        sd = {"HOST": url.hostname, "PORT": url.port, "USER": url.username, "PASSWORD": url.password}
        args, env = _pg_env(sd)
        r = subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args, "-d", url.path.lstrip("/"),
             str(backup)],
            env=env,
            capture_output=True,
            text=True,
        )  # fmt: skip
        if r.returncode != 0:
            raise DomainError(E_RESTORE, f"pg_restore 失败：{r.stderr.strip()[:300]}")
    else:
        raise DomainError(E_RESTORE, f"不支持的数据库：{manifest['engine']}")


def fingerprint_url(database_url: str) -> dict[str, dict[str, Any]]:
    """Fingerprint of a database given by URL, through its own connection (not Django's)."""
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        conn = sqlite3.connect(url.path[1:] if url.path.startswith("//") else url.path)
        try:
            cur = conn.cursor()
            cur.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
            tables = [r[0] for r in cur.fetchall()]
            return fingerprint_rows(cur, tables, lambda t: f'"{t}"')
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [r[0] for r in cur.fetchall()]
        return fingerprint_rows(cur, tables, lambda t: f'"{t}"')


def fingerprint_diff(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> list[str]:
    """Tables whose row count or content differ (empty = identical)."""
    out = []
    for t in sorted(set(a) | set(b)):
        if a.get(t) != b.get(t):
            out.append(f"{t}: {a.get(t)} ≠ {b.get(t)}")
    return out


def pending_migrations(database_url: str) -> list[str]:
    """Migrations of this code base that the database at ``database_url`` has not applied (a restore of an
    older backup then needs ``fangpin migrate``)."""
    from django.db.migrations.loader import MigrationLoader

    disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        conn = sqlite3.connect(url.path[1:] if url.path.startswith("//") else url.path)
        try:
            applied = set(conn.execute("SELECT app, name FROM django_migrations").fetchall())
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(database_url) as conn:
            applied = set(conn.execute("SELECT app, name FROM django_migrations").fetchall())
    return sorted(f"{a}.{n}" for a, n in disk - applied)
