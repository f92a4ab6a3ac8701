"""fangpin otp_reset USER --as ADMIN: removes USER's TOTP devices (lost phone); the next login enrols."""

from __future__ import annotations

from fangpin.accounts.management.user_command import UserAdminCommand
from fangpin.accounts.models import User
from fangpin.accounts.otp import otp_reset


class Command(UserAdminCommand):
    help = "重置用户的动态口令（下次登录重新绑定）"

    def act(self, actor: User, user: User) -> str:
        n = otp_reset(actor=actor, user=user)
        return f"已重置 {user.username} 的动态口令（删除 {n} 个设备），下次登录时重新绑定。"
