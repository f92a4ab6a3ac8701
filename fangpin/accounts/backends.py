"""Authentication backend: Django's model backend, plus demo accounts refused where demo accounts are
not allowed (production) and accounts that are disabled."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class FangpinBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        if getattr(user, "is_demo", False) and not settings.FANGPIN_DEMO_USERS_ALLOWED:
            return False
        return super().user_can_authenticate(user)
