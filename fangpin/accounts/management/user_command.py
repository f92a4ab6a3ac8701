"""The shape every "an administrator acts on one user" command shares: USER --as ADMIN, Chinese errors."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core.errors import DomainError


class UserAdminCommand(BaseCommand):
    """Subclasses implement ``act(actor, user)`` and return the line to print; the service checks the rights."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--as", dest="actor", required=True, help="执行操作的县级管理员")

    def act(self, actor: User, user: User) -> str:
        raise NotImplementedError

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = User.objects.filter(username=opts["actor"], is_active=True).first()
        user = User.objects.filter(username=opts["username"]).first()
        if actor is None or user is None:
            raise CommandError("用户不存在或已停用")
        try:
            self.stdout.write(self.act(actor, user))
        except DomainError as e:
            raise CommandError(e.message) from None
