"""Files with personal data that fangpin keeps on disk for a user to download later (下载中心 export jobs,
import reject reports): SM4-GCM at rest, in chunks (``core.crypto.seal_stream``), under the backup key
derived from the data key. One helper for all of them:

- ``sealed_output(target)``: a context manager that yields a clear path in a private temporary directory;
  the caller writes the workbook there; on a normal exit the file is sealed into ``target`` and its SHA-256
  (of the clear bytes) and sizes are recorded on the yielded object; the clear copy is removed in every case
  (also when the writer fails, when nothing is left at ``target`` either);
- ``sealed_open(path, sha256=...)``: the clear content in an unlinked temporary file (the returned handle is
  the only way to it), checked against the recorded SHA-256 when one is given. A file written before the
  files were encrypted (no ``FPBK`` header) is read as it is when ``allow_clear`` — the migration path of the
  reject reports: the old clear ones are served unchanged until the retention purge deletes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import crypto

SUFFIX = ".sm4"


class DigestMismatch(crypto.DecryptionError):
    """The decrypted content is not what was recorded (a swapped or altered file)."""


@dataclass
class SealedFile:
    path: Path  # where the caller writes the clear file (inside the context only)
    target: Path  # the encrypted file at rest
    sha256: str = ""  # of the clear bytes, set on exit
    clear_size: int = 0
    size: int = 0  # of the encrypted file


class _Hashing:
    def __init__(self, f: BinaryIO) -> None:
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        b = self.f.read(size)
        self.h.update(b)
        self.n += len(b)
        return b


@contextlib.contextmanager
def sealed_output(target: Path, *, name: str = "file.xlsx") -> Iterator[SealedFile]:
    """Write a file (at ``.path``, named ``name``) that is kept only encrypted, at ``target``."""
    tmp = Path(tempfile.mkdtemp(prefix="fangpin-sealed-"))
    out = SealedFile(path=tmp / Path(name).name, target=Path(target))
    try:
        yield out
        out.target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(out.path, "rb") as src, open(out.target, "wb") as dst:
                hashing = _Hashing(src)
                crypto.seal_stream(hashing, dst)
        except BaseException:
            out.target.unlink(missing_ok=True)
            raise
        out.sha256, out.clear_size, out.size = hashing.h.hexdigest(), hashing.n, out.target.stat().st_size
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the clear file never stays on disk


def sealed_open(path: Path, *, sha256: str = "", allow_clear: bool = False) -> BinaryIO:
    """The clear content of ``path`` in an unlinked temporary file, positioned at 0 (the caller closes it).
    Raises ``crypto.DecryptionError`` (altered, truncated, not ours), ``crypto.MissingKeyError``,
    ``DigestMismatch`` (not the recorded SHA-256) or ``OSError`` (missing)."""
    fh = tempfile.TemporaryFile()  # noqa: SIM115 (returned to the caller, who closes it)
    try:
        with open(path, "rb") as src:
            if crypto.is_sealed_stream(path):
                crypto.open_stream(src, fh)
            elif allow_clear:
                shutil.copyfileobj(src, fh)
            else:
                raise crypto.DecryptionError("不是加密文件")
        if sha256:
            fh.seek(0)
            digest = hashlib.sha256()
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
            if digest.hexdigest() != sha256:
                raise DigestMismatch("文件与记录的SHA-256不符")
        fh.seek(0)
        return fh
    except BaseException:
        fh.close()
        raise
