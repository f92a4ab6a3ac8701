"""fangpin otp_enrol USER --as ADMIN: gives USER a new TOTP device and prints its secret once."""

from __future__ import annotations

import base64

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.accounts.otp import otp_enrol_issue
from fangpin.core.errors import DomainError


class Command(BaseCommand):
    help = "为用户绑定新的动态口令（TOTP），显示一次密钥"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--as", dest="actor", required=True, help="执行操作的县级管理员")

    def handle(self, *args, **opts):
        actor = User.objects.filter(username=opts["actor"], is_active=True).first()
        user = User.objects.filter(username=opts["username"]).first()
        if actor is None or user is None:
            raise CommandError("用户不存在或已停用")
        try:
            dev = otp_enrol_issue(actor=actor, user=user)
        except DomainError as e:
            raise CommandError(e.message) from None
        self.stdout.write(f"已为 {user.username} 绑定动态口令。密钥（只显示这一次）：")
        self.stdout.write(base64.b32encode(dev.bin_key).decode())
        self.stdout.write(dev.config_url)
