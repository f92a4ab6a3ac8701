"""fangpin api_token issue|revoke|list: API bearer tokens (the secret is printed once, never stored)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.api.models import ApiToken
from fangpin.api.tokens import token_issue, token_revoke
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.management.commands._actor import command_actor


class Command(BaseCommand):
    help = "签发、吊销、列出接口令牌"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        i = sub.add_parser("issue", help="为用户签发令牌（明文只显示一次）")
        i.add_argument("--user", required=True, help="令牌所属用户")
        i.add_argument("--name", default="接口调用", help="用途")
        i.add_argument("--days", type=int, default=90)
        i.add_argument("--as", dest="as_user", default=None, help="以该用户身份签发（缺省：县级管理员）")
        r = sub.add_parser("revoke", help="吊销令牌")
        r.add_argument("prefix", help="令牌前缀（list 中显示）")
        r.add_argument("--as", dest="as_user", default=None)
        ls = sub.add_parser("list", help="列出令牌")
        ls.add_argument("--user", default=None)

    def handle(self, *args, **o):
        try:
            getattr(self, "_" + o["action"])(o)
        except DomainError as e:
            raise CommandError(e.message) from e

    def _issue(self, o):
        actor = command_actor(o["as_user"])
        user = User.objects.filter(username=o["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"用户“{o['user']}”不存在或已停用")
        tok, raw = token_issue(actor=actor, user=user, name=o["name"], days=o["days"], on=clock.today())
        self.stdout.write(f"令牌（只显示这一次，请妥善保存）：{raw}")
        self.stdout.write(f"前缀 {tok.prefix}，用户 {user.username}，有效期至 {tok.expires_on:%Y-%m-%d}")

    def _revoke(self, o):
        actor = command_actor(o["as_user"])
        tok = ApiToken.objects.filter(prefix=o["prefix"]).first()
        if tok is None:
            raise CommandError(f"没有前缀为“{o['prefix']}”的令牌")
        token_revoke(actor=actor, token=tok)
        self.stdout.write(f"已吊销 {tok.prefix}")

    def _list(self, o):
        qs = ApiToken.objects.select_related("user").order_by("id")
        if o["user"]:
            qs = qs.filter(user__username=o["user"])
        for t in qs:
            state = "已吊销" if t.revoked_at else ("已过期" if t.expires_on < clock.today() else "有效")
            self.stdout.write(f"{t.prefix}\t{t.user.username}\t{t.name}\t至 {t.expires_on:%Y-%m-%d}\t{state}")
