"""fangpin restore_drill [--workdir DIR] [--keep]: the restore drill now (BAK-02; the weekly Huey job runs
the same): backup → restore into a scratch database → compare every table with the manifest → audit chain
and integrity seals verified on the copy. Audited (``core.restore_drill``); non-zero exit when the copy differs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError
from fangpin.core.tasks import run_restore_drill


class Command(BaseCommand):
    help = "恢复演练：备份→恢复到临时库→逐表核对行数与内容哈希→核对审计哈希链与决策记录校验码（记入审计日志）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--workdir", help="备份文件与 SQLite 临时库所在目录（默认 FANGPIN_VAR 下的临时目录）"
        )
        parser.add_argument("--keep", action="store_true", help="保留演练所用的备份文件（临时库总是删除）")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            res = run_restore_drill(workdir=o.get("workdir"), keep=o["keep"])
        except DomainError as e:
            raise CommandError(f"恢复演练失败：{e.message}") from None
        self.stdout.write(
            f"恢复演练（{res.engine}）：备份 {res.tables} 张表 {res.rows} 行，用时 {res.backup_seconds:.1f} 秒；"
            f"恢复并核对用时 {res.rto_seconds:.1f} 秒（RTO）"
        )
        self.stdout.write(
            f"审计哈希链{'完整' if not res.audit_bad else f'{len(res.audit_bad)}条不符'}；"
            f"决策记录校验码 {res.sealed_rows} 条{'一致' if not res.tampered else f'，{len(res.tampered)} 条不符'}"
        )
        self.stdout.write(
            "RPO 取决于部署：WAL 归档时不超过 archive_timeout，仅每日备份时为备份间隔（见 docs/howto）"
        )
        if res.pending:
            self.stdout.write(f"提示：恢复的副本有{len(res.pending)}个迁移未应用")
        if res.kept:
            self.stdout.write(f"已保留备份文件 {res.backup}")
        if not res.ok:
            raise CommandError("恢复演练不通过：" + "；".join(res.problems()))
        self.stdout.write("恢复演练通过：恢复后的数据与备份清单逐表一致")
