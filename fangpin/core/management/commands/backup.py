"""fangpin backup OUT: a backup of the system of record (SQLite: online backup API; PostgreSQL:
pg_dump -Fc) with a manifest of per-table row counts and content hashes next to it."""

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.actors import system_actor
from fangpin.audit.record import audit_record
from fangpin.core.backup import backup_create
from fangpin.core.errors import DomainError


class Command(BaseCommand):
    help = "备份数据库（含审计日志及其防篡改触发器），并生成校验清单"

    def add_arguments(self, parser):
        parser.add_argument("out", help="备份文件路径，如 /backup/fangpin-20250601.dump")

    def handle(self, *args, **o):
        try:
            res = backup_create(o["out"])
        except DomainError as e:
            raise CommandError(e.message) from None
        m = res.manifest
        rows = sum(t["rows"] for t in m["tables"].values())
        audit_record(actor=system_actor("backup"), event_type="core.backup",
                     data={"file": str(res.path), "sha256": m["sha256"], "tables": len(m["tables"]), "rows": rows})  # fmt: skip
        self.stdout.write(
            f"已备份到 {res.path}（{m['engine']}，{len(m['tables'])} 张表 {rows} 行，"
            f"SHA-256 {m['sha256'][:16]}…，用时 {res.seconds:.1f} 秒）"
        )
