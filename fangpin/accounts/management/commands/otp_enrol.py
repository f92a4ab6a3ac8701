"""fangpin otp_enrol USER --as ADMIN: gives USER a new TOTP device and prints its secret once."""

from __future__ import annotations

import base64

from fangpin.accounts.management.user_command import UserAdminCommand
from fangpin.accounts.models import User
from fangpin.accounts.otp import otp_enrol_issue


class Command(UserAdminCommand):
    help = "为用户绑定新的动态口令（TOTP），显示一次密钥"

    def act(self, actor: User, user: User) -> str:
        dev = otp_enrol_issue(actor=actor, user=user)
        secret = base64.b32encode(dev.bin_key).decode()
        return f"已为 {user.username} 绑定动态口令。密钥（只显示这一次）：\n{secret}\n{dev.config_url}"
