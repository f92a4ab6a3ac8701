"""Production: every `manage.py check --deploy` item decided here (docs/parts/security.md)."""

import os

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ["FANGPIN_SECRET_KEY"]

# TLS ends at the county's reverse proxy (or 国密 gateway), which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = os.environ.get("FANGPIN_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("FANGPIN_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Not preloaded: county hosts are intranet / e-government names a browser preload list cannot hold.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload, decided above

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("FANGPIN_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Static assets (CSS, htmx, ECharts, the fonts) are served by the application itself under gunicorn (WhiteNoise,
# right after SecurityMiddleware, so they carry the same security headers), from STATIC_ROOT, which
# `fangpin serve` fills with collectstatic; gzip copies are made there, so a phone page's first load stays small.
MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

FANGPIN_DEMO_USERS_ALLOWED = False
FANGPIN_OTP_EXEMPT_ALLOWED = False

# Encryption at rest (core.crypto): FANGPIN_DATA_KEYS="k2:<32 hex>,k1:<32 hex>" (the first is current; older
# ones only decrypt until `fangpin encryption_rotate` has re-encrypted), FANGPIN_INDEX_KEY=<64 hex>.
# Missing keys make `check` (and so every start) fail: core.checks.
from fangpin.core.crypto import parse_keys as _parse_keys  # noqa: E402

FANGPIN_DEV_KEYS = False
FANGPIN_DATA_KEYS = _parse_keys(os.environ.get("FANGPIN_DATA_KEYS", ""))
FANGPIN_DATA_KEY_ID = next(iter(FANGPIN_DATA_KEYS), "")
FANGPIN_INDEX_KEY = bytes.fromhex(os.environ.get("FANGPIN_INDEX_KEY", ""))
# Index keys with ids (rotation: core.rotation): FANGPIN_INDEX_KEYS="i2:<64 hex>,0:<64 hex>", first current;
# the single FANGPIN_INDEX_KEY is the key "0".
from fangpin.core.crypto import parse_index_keys as _parse_index_keys  # noqa: E402

FANGPIN_INDEX_KEYS = _parse_index_keys(os.environ.get("FANGPIN_INDEX_KEYS", ""))
FANGPIN_INDEX_KEY_ID = next(iter(FANGPIN_INDEX_KEYS), "")
# Integrity seals (core.integrity): FANGPIN_INTEGRITY_KEYS="s2:<64 hex>,s1:<64 hex>" keeps that key apart (a 密码机
# export); unset, one integrity key is derived from each data key. `fangpin integrity seal` after a rotation.
FANGPIN_INTEGRITY_KEYS = _parse_index_keys(os.environ.get("FANGPIN_INTEGRITY_KEYS", ""))
if not FANGPIN_DATA_KEYS or (len(FANGPIN_INDEX_KEY) < 16 and not FANGPIN_INDEX_KEYS):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("生产环境必须设置 FANGPIN_DATA_KEYS 和 FANGPIN_INDEX_KEY（数据加密密钥）")
