"""fangpin import_mapping FILE [--kind auto|registry|living_conditions|village_profile] [--on YYYY-MM-DD]
[--as USER] [--set 文件表头=列名 ...]

The column-mapping question of a national file (监测对象信息, （乡村建设）户信息 or （自定义）行政村信息; --kind
auto, the default, tells it from the file name or header): its unknown headers (with a proposal, never
applied unasked), the required columns missing, and the first rows as parsed. --set saves the answer
(列名 = a national header such as 户编号, or 不导入) for this file kind and header layout; the next upload of
that kind with the same headers is read with it. --on: the business date the preview checks dates against
(default today). Changes no household data.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError

from ._actor import command_actor
from .import_registry import _sniff, business_date, parse_pairs, print_question


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
        parser.add_argument(
            "--kind",
            default="auto",
            choices=["auto", "registry", "living_conditions", "village_profile"],
            help="文件类型（默认按文件名或表头识别）",
        )
        parser.add_argument("--on", default=None, help="业务日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, file, username=None, pairs=(), **opts):
        from fangpin.registry.services.import_mapping import import_mapping_save, mapping_question

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = command_actor(username)
        data = path.read_bytes()
        on = business_date(opts.get("on"))
        kind = opts.get("kind") or "auto"
        if kind == "auto":
            kind = _sniff(path)
        try:
            if pairs:
                m = import_mapping_save(
                    actor=actor, file_name=path.name, data=data, answers=parse_pairs(pairs), on=on, kind=kind
                )
                self.stdout.write(f"已保存列对应 v{m.version}")
            q = mapping_question(actor=actor, file_name=path.name, data=data, on=on, kind=kind)
        except DomainError as e:
            raise CommandError(e.message) from None
        print_question(self, q)
