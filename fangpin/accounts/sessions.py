"""The session engine: Django's database sessions, the row read by its key with SQL compiled once per process.

Django's ``db`` engine builds and compiles ``Session.objects.get(session_key=…, expire_date__gt=now)`` for
every request that carries a cookie (~1 ms of Python). Here the same row is read by its key alone through
``core.precompiled`` and its expiry compared in Python with the same ``now``: the same session, or none, as
Django's. Everything else (save, create, delete, ``clearsessions``) is Django's."""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from fangpin.core.precompiled import precompiled_first


def _by_key(key: str):
    from django.contrib.sessions.models import Session

    return Session.objects.filter(session_key=key)[:1]


class SessionStore(DbSessionStore):
    def _get_session_from_db(self):
        key = self.session_key
        if not isinstance(key, str) or self.model is not self.get_model_class():
            return super()._get_session_from_db()  # no key (or a custom model): Django's own read
        try:
            s = precompiled_first("accounts.session_by_key", _by_key, key)
        except SuspiciousOperation as e:  # as Django's: logged, the session dropped
            logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            s = None
        if s is None or not s.expire_date > timezone.now():
            self._session_key = None
            return None
        return s
