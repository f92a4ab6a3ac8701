"""fangpin worklist list --as USER | fangpin worklist export ID OUT.xlsx --as USER [--unmasked]

The saved working lists of the browser's household list, from the command line: list the ones a user sees,
or export one (its filters re-run in that user's scope; national column format, masked unless --unmasked)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
from fangpin.registry.io.export import registry_export
from fangpin.registry.management.commands._actor import command_actor
from fangpin.worklists.services import worklist_get, worklist_list


class Command(BaseCommand):
    help = "工作清单：列出本人可见的清单，或按清单的筛选条件导出（国家系统格式，默认脱敏）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "export"])
        parser.add_argument("id", nargs="?", type=int)
        parser.add_argument("out", nargs="?")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--unmasked", action="store_true")

    def handle(
        self, *args, action: str, id: int | None, out: str | None, username: str | None, unmasked: bool, **o
    ):
        actor = command_actor(username)
        try:
            if action == "list":
                for w in worklist_list(actor=actor):
                    shared = f" 共享给{w.shared_township}" if w.shared_township else ""
                    self.stdout.write(f"{w.pk:>5}  {w.name}  （{w.owner}{shared}）  {w.params}")
                return
            if id is None or not out:
                raise CommandError("用法：fangpin worklist export 清单编号 输出文件.xlsx --as 用户名")
            wl = worklist_get(actor=actor, worklist_id=id)
            f = HouseholdFilter.from_params(wl.params)
            qs = household_search_qs(actor=actor, f=f, on=clock.today())
            res = registry_export(
                actor=actor,
                out_path=out,
                on=clock.today(),
                region_code=f.region or None,
                unmasked=unmasked,
                households=qs.order_by().values("pk"),
                filters=f.as_params(),
            )
        except DomainError as e:
            raise CommandError(e.message) from None
        masked = "已脱敏" if res.masked else "明文"
        self.stdout.write(f"已导出“{wl.name}”{res.rows}人（{res.households}户，{masked}）到 {res.path}")
