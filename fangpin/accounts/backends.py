"""Authentication backend: Django's model backend, plus demo accounts refused where demo accounts are
not allowed (production) and accounts that are disabled."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from fangpin.core.precompiled import precompiled_first


class FangpinBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        if getattr(user, "is_demo", False) and not settings.FANGPIN_DEMO_USERS_ALLOWED:
            return False
        return super().user_can_authenticate(user)

    def get_user(self, user_id):
        """Django's ``get_user`` (the signed-in user of a session, every request), the row read with SQL
        compiled once per process (``core.precompiled``)."""
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return super().get_user(user_id)
        user = precompiled_first("accounts.user_by_id", _user_by_id, user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def _user_by_id(pk: int):
    from django.contrib.auth import get_user_model

    return get_user_model()._default_manager.filter(pk=pk)[:1]
