"""fangpin import_report BATCH OUT.xlsx [--as USERNAME] — download an import batch's reject report.

The report is kept SM4-GCM-encrypted under FANGPIN_FILES_DIR (``core.sealed_files``); this writes the
decrypted workbook (checked against the SHA-256 recorded when it was written, audited as
``registry.import_report_download``) to the file the user names, for the user who uploaded the batch only,
like the 数据导入 screen's and the API's download. The file written is the user's: it is not encrypted and
the retention purge does not know it.
"""

from __future__ import annotations

import shutil

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError
from fangpin.registry.services.imports import import_report_open

from ._actor import command_actor


class Command(BaseCommand):
    help = "下载导入批次的错误报告（解密、校验SHA-256、留痕；仅上传人）"

    def add_arguments(self, parser):
        parser.add_argument("batch", type=int, help="导入批次编号")
        parser.add_argument("out", help="下载到的文件（.xlsx）")
        parser.add_argument(
            "--as", dest="username", default=None, help="以该用户身份（默认第一个县级管理员）"
        )

    def handle(self, *args, batch: int, out: str, username: str | None, **opts):
        actor = command_actor(username)
        try:
            fh, _name = import_report_open(actor=actor, batch_id=batch)
        except DomainError as e:
            raise CommandError(e.message) from None
        with fh, open(out, "wb") as dst:
            shutil.copyfileobj(fh, dst)
        self.stdout.write(f"导入批次#{batch}的错误报告已写入 {out}")
