"""fangpin encryption_rotate [--dry-run]: re-encrypts every ID number and phone (and sealed document) written
under an older data key with the current key of FANGPIN_DATA_KEYS, and recomputes every blind index, tail and
department batch file not made with the current key of FANGPIN_INDEX_KEYS; audited (docs/parts/security.md)."""

from django.core.management.base import BaseCommand

from fangpin.accounts.actors import system_actor
from fangpin.core.rotation import encryption_rotate


class Command(BaseCommand):
    help = "密钥轮换：用当前数据密钥重新加密，用当前索引密钥重算盲索引和部门批次文件（记入审计日志）"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只统计，不改写")

    def handle(self, *args, **o):
        res = encryption_rotate(actor=system_actor("encryption_rotate"), dry_run=o["dry_run"])
        verb = "将重新加密" if o["dry_run"] else "已重新加密"
        self.stdout.write(f"当前密钥 {res.current}：{verb} {res.total} 个值")
        for label, n in sorted(res.values.items()):
            self.stdout.write(f"  {label}: {n}")
        verb = "将重算" if o["dry_run"] else "已重算"
        self.stdout.write(f"当前索引密钥 {res.index_current}：{verb} {sum(res.indexes.values())} 行盲索引")
        for label, n in sorted({**res.indexes, **res.files}.items()):
            self.stdout.write(f"  {label}: {n}")
        if not o["dry_run"]:
            self.stdout.write(f"决策记录重新加校验码 {sum(res.seals.values())} 条")
            for m, pk in res.seals_refused:
                self.stdout.write(
                    f"  校验不通过、未重新加校验码：{m} #{pk}（请用 fangpin integrity verify 核查）"
                )
