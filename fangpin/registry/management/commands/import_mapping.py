"""fangpin import_mapping FILE [--as USER] [--set 文件表头=列名 ...]

The column-mapping question of a national 监测对象信息 file: its unknown headers (with a proposal, never
applied unasked), the required columns missing, and the first rows as parsed. --set saves the answer
(列名 = a national header such as 户编号, or 不导入) for this header layout; the next upload with the same
headers is read with it. Changes no household data.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError

from ._actor import command_actor
from .import_registry import parse_pairs, print_question


class Command(BaseCommand):
    help = "监测对象信息导入的列对应：预览未识别表头与前几行；--set 保存（同样表头的文件下次沿用）"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--as", dest="username", default=None, help="以该用户身份（默认第一个县级管理员）"
        )
        parser.add_argument(
            "--set", dest="pairs", action="append", default=[], help="文件表头=列名（可多次）"
        )

    def handle(self, *args, file, username=None, pairs=(), **opts):
        from fangpin.registry.services.import_mapping import import_mapping_save, mapping_question

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = command_actor(username)
        data = path.read_bytes()
        try:
            if pairs:
                m = import_mapping_save(
                    actor=actor, file_name=path.name, data=data, answers=parse_pairs(pairs)
                )
                self.stdout.write(f"已保存列对应 v{m.version}")
            q = mapping_question(actor=actor, file_name=path.name, data=data)
        except DomainError as e:
            raise CommandError(e.message) from None
        print_question(self, q)
