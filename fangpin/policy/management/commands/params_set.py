"""fangpin params_set KEY VALUE --year Y --as USER [--region CODE] [--basis TEXT] [--doc-no NO]: a new
version of a parameter, by a named user holding 修改政策参数 (recorded as the creator and in the audit log)."""

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.audit.refusals import audit_refusal
from fangpin.core.errors import DomainError
from fangpin.policy.params import parameter_set, parameter_value_parse


class Command(BaseCommand):
    help = "设置政策参数（新建版本，旧版本保留）。例：fangpin params_set income.monitoring_line 7500 --region 41 --year 2025 --as county_admin --basis 豫乡振发〔2025〕3号"

    def add_arguments(self, parser):
        parser.add_argument("key")
        parser.add_argument("value", help="JSON 值，如 7500 或 '{\"rich\": 35}'")
        parser.add_argument("--region", default="")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--as", dest="actor", required=True, help="操作人用户名（须有修改政策参数权限）")
        parser.add_argument("--basis", default="", help="依据（文件名称）")
        parser.add_argument("--doc-no", default="", help="文号")

    def handle(self, *args, **o):
        actor = User.objects.filter(username=o["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{o['actor']}”不存在或已停用")
        try:
            value = parameter_value_parse(o["value"])  # refuses NaN, 1e400, negative numbers, deep nesting
        except DomainError as e:
            audit_refusal(actor=actor, event_type="policy.change_refused", object_type="policy.parameter",
                          object_id=o["key"][:64], reason=e.message, data={"field": "value", "entry": "cli"})  # fmt: skip
            raise CommandError(e.message) from None
        try:
            p = parameter_set(
                actor=actor,
                key=o["key"],
                value=value,
                region_code=o["region"],
                year=o["year"],
                basis=o["basis"],
                doc_no=o["doc_no"],
            )
        except DomainError as e:
            audit_refusal(actor=actor, event_type="policy.change_refused", object_type="policy.parameter",
                          object_id=o["key"][:64], reason=e.message, data={"field": e.field or "", "entry": "cli"})  # fmt: skip
            raise CommandError(e.message) from None
        self.stdout.write(f"已保存 {p}（第{p.version}版，操作人 {actor.username}）")
