import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import HUEY

# Each test process has its own cache (the Redis-backed one is tested in tests/security/test_search_throttle.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process, through the real Huey machinery (enqueue → execute → result).
HUEY = {**HUEY, "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FANGPIN_FILES_DIR = Path(tempfile.mkdtemp(prefix="fangpin-test-files-"))
# The second-factor gate is switched on by the tests that exercise it (accounts/tests/test_login.py),
# so other tests can force_login a county user straight onto a page.
FANGPIN_OTP_ROLES = frozenset()
FANGPIN_AUDIT_CHECKPOINT = Path(tempfile.mkdtemp(prefix="fangpin-test-audit-")) / "audit-checkpoint.json"
FANGPIN_INTEGRITY_CHECKPOINT = (
    Path(tempfile.mkdtemp(prefix="fangpin-test-seals-")) / "integrity-checkpoint.jsonl"
)
# Many tests log in from 127.0.0.1 within a minute; the throttle test sets the production value itself.
FANGPIN_LOGIN_IP_PER_MINUTE = 10_000
# Likewise searches and look-ups by one persona (the throttle tests set production values themselves).
FANGPIN_SEARCH_PER_MINUTE = 1_000_000
FANGPIN_LOOKUP_DAILY_DEFAULT = 1_000_000
FANGPIN_LOOKUP_DAILY_BUDGET = {}
# django-axes needs the request in authenticate(); Client.login() does not pass it. The lockout tests
# (accounts/tests/test_login.py) switch axes on; everywhere else tests may use client.login().
AXES_ENABLED = False
