"""fangpin audit_verify [--checkpoint]: recomputes the hash chain and compares it with the signed
checkpoints outside the table; --checkpoint then anchors the current head."""

from django.core.management.base import BaseCommand, CommandError

from fangpin.audit.checkpoint import checkpoint_verify, checkpoint_write
from fangpin.audit.record import audit_verify


class Command(BaseCommand):
    help = "校验审计日志哈希链和表外检查点是否完整"

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", action="store_true", help="校验通过后写入新的检查点")

    def handle(self, *args, **opts):
        bad = audit_verify()
        problems = checkpoint_verify()
        if bad:
            problems.insert(0, f"审计日志被篡改，序号：{', '.join(map(str, bad[:50]))}")
        if problems:
            raise CommandError("；".join(problems))
        from fangpin.audit.checkpoint import checkpoint_path, checkpoints_read

        if not checkpoints_read() and not opts["checkpoint"]:
            self.stdout.write(
                f"提示：尚无表外检查点（{checkpoint_path()}），删除最新事件无法被发现；"
                "请运行 fangpin audit_verify --checkpoint 或启动后台任务"
            )
        if opts["checkpoint"]:
            cp = checkpoint_write()
            if cp:
                self.stdout.write(f"已写入检查点：第{cp.seq}号事件，共{cp.count}条")
        self.stdout.write("审计日志完整")
