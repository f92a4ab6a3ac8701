"""fangpin user list|create|edit … --as ADMIN: the 用户管理 screen from the command line (same services, rules
and audit: a county admin manages the users of its own region; nobody changes their own role)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.accounts.users import user_create, user_list, user_update
from fangpin.core.errors import DomainError, NotFound


class Command(BaseCommand):
    help = "用户管理：list 列出本辖区用户；create 新建（显示一次初始密码）；edit 修改角色、区域、部门或停用"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="列出本辖区的用户")
        ls.add_argument("--as", dest="actor", required=True)
        new = sub.add_parser("create", help="新建用户")
        new.add_argument("username")
        new.add_argument("--name", dest="display_name", default="", help="姓名")
        new.add_argument("--role", required=True, choices=Role.values)
        new.add_argument("--region", required=True, help="管辖区划代码")
        new.add_argument("--department", default="", help="部门数据员的部门（如 医保）")
        new.add_argument("--as", dest="actor", required=True)
        ed = sub.add_parser("edit", help="修改用户")
        ed.add_argument("username")
        ed.add_argument("--role", choices=Role.values)
        ed.add_argument("--region")
        ed.add_argument("--department")
        state = ed.add_mutually_exclusive_group()
        state.add_argument("--deactivate", action="store_true", help="停用")
        state.add_argument("--activate", action="store_true", help="重新启用")
        ed.add_argument("--as", dest="actor", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = User.objects.filter(username=opts["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{opts['actor']}”不存在或已停用")
        try:
            getattr(self, f"_{opts['action']}")(actor, opts)
        except NotFound:
            raise CommandError("用户不存在或无权访问") from None
        except DomainError as e:
            raise CommandError(e.message) from None

    def _list(self, actor: User, opts: dict) -> None:
        for u in user_list(actor=actor).select_related("region"):
            state = "" if u.is_active else "（已停用）"
            dept = f" {u.department}" if u.department else ""
            self.stdout.write(
                f"{u.username}\t{u.display_name}\t{u.get_role_display()}{dept}\t{u.region_id}{state}"
            )

    def _create(self, actor: User, opts: dict) -> None:
        u, password = user_create(
            actor=actor,
            username=opts["username"],
            display_name=opts["display_name"],
            role=opts["role"],
            region_code=opts["region"],
            department=opts["department"],
        )
        self.stdout.write(f"已新建用户 {u.username}（{u.get_role_display()}，{u.region_id}）。")
        self.stdout.write(f"初始密码（只显示这一次，首次登录后请修改）：{password}")

    def _edit(self, actor: User, opts: dict) -> None:
        u = user_list(actor=actor).filter(username=opts["username"]).first()
        if u is None:
            raise NotFound("用户")
        active = u.is_active
        if opts["deactivate"] or opts["activate"]:
            active = bool(opts["activate"])
        u = user_update(
            actor=actor,
            user_id=u.pk,
            role=opts["role"] or u.role,
            region_code=opts["region"] or u.region_id,
            department=u.department if opts["department"] is None else opts["department"],
            is_active=active,
        )
        state = "启用" if u.is_active else "停用"
        self.stdout.write(f"已修改 {u.username}：{u.get_role_display()}，{u.region_id}，{state}")
