"""A department file waiting for its mapping question to be answered: stored privately per user under a
random token until it is uploaded (``dept_batch_upload``) or abandoned. The browser and the API share it."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from django.conf import settings

from fangpin.accounts.roles import Role
from fangpin.core.errors import DomainError, NotFound
from fangpin.core.text import visible
from fangpin.core.uploads import upload_check

from .sources import source_get

SUFFIXES = ("csv", "xlsx", "xls")
TOKEN = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx|xls)$")
E_SUFFIX = "dept_file_type"


def _dir(user) -> Path:
    d = Path(settings.FANGPIN_FILES_DIR) / "dept_pending" / str(user.pk)
    d.mkdir(parents=True, exist_ok=True)
    return d


def pending_store(*, actor, file_name: str, data: bytes) -> str:
    """Keeps the bytes for ``actor`` only and returns the token naming them."""
    # the one upload guard (size, zip ratio, macros …) before anything reads the file for the preview; a
    # macro workbook (.xlsm) or a legacy .xls is refused by it with its reason, not only by its suffix
    upload_check(data=data, file_name=file_name, actor=actor, entry="screening.upload")
    suffix = Path(file_name or "").suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        shown = visible(Path(file_name or "").name)[:80]
        raise DomainError(
            E_SUFFIX, f"文件“{shown}”不是部门数据文件，请选择部门数据文件（xlsx 或 csv）", field="file"
        )
    token = f"{secrets.token_hex(16)}.{suffix}"
    (_dir(actor) / token).write_bytes(data)
    return token


def pending_path(*, actor, token: str) -> Path:
    """The file behind ``token`` — only the user who stored it finds it (anyone else: not found)."""
    if not TOKEN.match(token or ""):
        raise NotFound("上传文件")
    p = _dir(actor) / token
    if not p.is_file():
        raise NotFound("上传文件")
    return p


def default_behalf(actor, kind: str, behalf: str | None) -> str | None:
    """A county admin uploading a department's file does so on that department's behalf (its first
    department, unless named); anybody else uploads for their own department."""
    behalf = (behalf or "").strip() or None
    if behalf is None and actor.role == Role.COUNTY_ADMIN and kind:
        try:
            return source_get(kind).departments[0]
        except DomainError:
            return None
    return behalf
