"""fangpin otp_reset USER --as ADMIN: removes USER's TOTP devices (lost phone); the next login enrols."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.accounts.otp import otp_reset
from fangpin.core.errors import DomainError


class Command(BaseCommand):
    help = "重置用户的动态口令（下次登录重新绑定）"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--as", dest="actor", required=True, help="执行操作的县级管理员")

    def handle(self, *args, **opts):
        actor = User.objects.filter(username=opts["actor"], is_active=True).first()
        user = User.objects.filter(username=opts["username"]).first()
        if actor is None or user is None:
            raise CommandError("用户不存在或已停用")
        try:
            n = otp_reset(actor=actor, user=user)
        except DomainError as e:
            raise CommandError(e.message) from None
        self.stdout.write(f"已重置 {user.username} 的动态口令（删除 {n} 个设备），下次登录时重新绑定。")
