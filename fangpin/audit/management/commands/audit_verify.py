from django.core.management.base import BaseCommand, CommandError

from fangpin.audit.record import audit_verify


class Command(BaseCommand):
    help = "校验审计日志哈希链是否完整"

    def handle(self, *args, **opts):
        bad = audit_verify()
        if bad:
            raise CommandError(f"审计日志被篡改，序号：{', '.join(map(str, bad[:50]))}")
        self.stdout.write("审计日志完整")
