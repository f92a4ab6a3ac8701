from django.core.management.base import BaseCommand

from fangpin.policy.params import load_defaults


class Command(BaseCommand):
    help = "安装默认政策参数（已有的不覆盖）"

    def handle(self, *args, **opts):
        n = load_defaults()
        self.stdout.write(f"新增默认参数 {n} 条")
