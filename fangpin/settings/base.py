"""Settings shared by every environment. Topic-specific values come from the environment.

DATABASE_URL selects the system of record (SQLite by default, PostgreSQL in production).
FANGPIN_VAR is the folder for the SQLite file, the task-queue store and generated files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("FANGPIN_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("FANGPIN_SECRET_KEY", "dev-only-not-secret-change-me")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("FANGPIN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "huey.contrib.djhuey",
    "django_htmx",
    "fangpin.core",
    "fangpin.regions",
    "fangpin.accounts",
    "fangpin.audit",
    "fangpin.policy",
    "fangpin.registry",
    "fangpin.monitoring",
    "fangpin.screening",
    "fangpin.risk",
    "fangpin.trust",
    "fangpin.demo",
    "fangpin.reports",
    "fangpin.web",
    "fangpin.api",
    "ninja",
    "fangpin.worklists",
    "fangpin.whatif",
]

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fangpin.web.middleware.DomainErrorMiddleware",
    "fangpin.web.middleware.InputCharacterMiddleware",
]

ROOT_URLCONF = "fangpin.urls"
CSRF_FAILURE_VIEW = "fangpin.web.views.errors.csrf_failure"
WSGI_APPLICATION = "fangpin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangpin.web.context_processors.navigation",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fangpin.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_AGE = 30 * 60
# The idle timeout is the server's (accounts.middleware.SessionLimitsMiddleware): the session records the
# last activity at most once a minute (SEEN_EVERY_SECONDS) and is saved then, not on every request (that
# was three of a list's queries: BEGIN, UPDATE django_session, COMMIT). The session and its cookie then
# expire at most a minute before the idle limit, never after it.
SESSION_SAVE_EVERY_REQUEST = False
# Django's database sessions, the row read with SQL compiled once per process (accounts.sessions)
SESSION_ENGINE = "fangpin.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# Background jobs: Huey. Embedded default = SQLite file store, no server. REDIS_URL switches to Redis.
_redis = os.environ.get("FANGPIN_REDIS_URL")
HUEY = {
    "name": "fangpin",
    "immediate": False,
    "results": True,
    "consumer": {"workers": 2, "worker_type": "thread"},
}
if _redis:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": _redis})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})

# The cache the per-user search throttle and look-up budget count in (accounts.throttle): it must be shared by
# every worker process, or each gunicorn worker would grant the budget again. Redis with FANGPIN_REDIS_URL
# (atomic counters), else a file cache on this machine (the embedded default).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis,
            "KEY_PREFIX": "fangpin",
        }
        if _redis
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            # one folder per database: a rebuilt or other database never reads another one's entries
            "LOCATION": str(
                VAR_DIR / "cache" / hashlib.sha256(str(DATABASES["default"]).encode()).hexdigest()[:12]
            ),
        }
    )
}

# Batch engine: "duckdb" (embedded default) or "spark".
FANGPIN_BATCH_ENGINE = os.environ.get("FANGPIN_BATCH_ENGINE", "duckdb")
FANGPIN_DUCKDB_MEMORY_LIMIT = os.environ.get("FANGPIN_DUCKDB_MEMORY_LIMIT", "")
FANGPIN_FILES_DIR = VAR_DIR / "files"
# Outgoing messages (trust.messaging): "local" records them in the database; a county registers its gateway.
FANGPIN_MESSAGE_BACKEND = os.environ.get("FANGPIN_MESSAGE_BACKEND", "local")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"pii": {"()": "fangpin.core.masking.PiiLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["pii"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("FANGPIN_LOG_LEVEL", "WARNING")},
}
# Django's own handlers (django.server = the request lines of runserver, with the query string) get the
# masking filter too; every handler added later gets it from core.masking.install_log_masking (issue #17).
LOGGING["handlers"].update(
    {
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["pii"],
        },
        # Django mails tracebacks with the request's parameters in clear: not from fangpin
        "mail_admins": {"class": "logging.NullHandler", "filters": ["pii"]},
    }
)
LOGGING["formatters"] = {
    "django.server": {
        "()": "django.utils.log.ServerFormatter",
        "format": "[{server_time}] {message}",
        "style": "{",
    }
}
LOGGING["loggers"] = {
    "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    # Django's default config gives the "django" logger its own console/mail handlers without the filter:
    # replaced here, so its records go to the (masked) root handler
    "django": {"handlers": [], "level": os.environ.get("FANGPIN_LOG_LEVEL", "WARNING"), "propagate": True},
}

# --- Security (issue #17; docs/parts/security.md). Added as one block so other settings stay untouched.
import datetime as _dt  # noqa: E402


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp", "csp"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked username+IP before the password is checked
    "fangpin.accounts.backends.FangpinBackend",
]
_auth = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_auth:_auth] = [
    "django_otp.middleware.OTPMiddleware",
    "fangpin.audit.refusals.RefusalAuditMiddleware",  # refusals survive a rolled-back transaction
    "fangpin.accounts.middleware.LoginThrottleMiddleware",
    "fangpin.accounts.middleware.SessionLimitsMiddleware",
    "fangpin.accounts.middleware.OtpRequiredMiddleware",
]
MIDDLEWARE += [
    "csp.middleware.CSPMiddleware",
    "fangpin.accounts.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# Lockout (等保 8.1.4.1 b, AUTH-04): 5 failures for one username from one IP → 30 minutes.
AXES_FAILURE_LIMIT = _env_int("FANGPIN_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = _dt.timedelta(minutes=_env_int("FANGPIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the 30 minutes count from the lockout
AXES_LOCKOUT_CALLABLE = "fangpin.accounts.views.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
FANGPIN_LOGIN_IP_PER_MINUTE = _env_int("FANGPIN_LOGIN_IP_PER_MINUTE", 20)  # any usernames, one address
# Per-user search throttle and daily look-up budget by full ID / phone (API-02/03; accounts.throttle).
FANGPIN_SEARCH_PER_MINUTE = _env_int("FANGPIN_SEARCH_PER_MINUTE", 300)
FANGPIN_LOOKUP_DAILY_DEFAULT = _env_int("FANGPIN_LOOKUP_DAILY_DEFAULT", 1000)
FANGPIN_LOOKUP_DAILY_BUDGET = {
    "village_cadre": _env_int("FANGPIN_LOOKUP_DAILY_VILLAGE", 200),
    "helper": _env_int("FANGPIN_LOOKUP_DAILY_HELPER", 200),
    "township_reviewer": _env_int("FANGPIN_LOOKUP_DAILY_TOWNSHIP", 500),
}
AXES_IPWARE_PROXY_COUNT = _env_int("FANGPIN_PROXY_COUNT", 0) or None  # behind N reverse proxies

# Sessions: idle timeout and an absolute cap, both checked on the server (SESS-01).
FANGPIN_SESSION_IDLE_MINUTES = _env_int("FANGPIN_SESSION_IDLE_MINUTES", 30)
FANGPIN_SESSION_MAX_HOURS = _env_int("FANGPIN_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = FANGPIN_SESSION_IDLE_MINUTES * 60
SESSION_COOKIE_SAMESITE = "Lax"

# Second factor (AUTH-07): these roles pass TOTP after the password. Exemptions (demo users) only count
# where FANGPIN_OTP_EXEMPT_ALLOWED is on (dev settings), never in production.
FANGPIN_OTP_ROLES = frozenset(
    os.environ.get("FANGPIN_OTP_ROLES", "county_admin,county_reviewer,township_reviewer,auditor").split(",")
)
FANGPIN_OTP_EXEMPT_ALLOWED = False
FANGPIN_DEMO_USERS_ALLOWED = True  # prod.py: False (demo accounts refused at login and by check --deploy)
OTP_TOTP_ISSUER = os.environ.get("FANGPIN_OTP_ISSUER", "fangpin")
OTP_ADMIN_HIDE_SENSITIVE_DATA = (
    True  # no admin page shows a TOTP secret or its QR code (a second factor stays secret)
)

# Passwords (AUTH-01): ≥10 characters, 3 of 4 classes, no common word dressed up (Password@123).
AUTH_PASSWORD_VALIDATORS += [
    {"NAME": "fangpin.accounts.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "fangpin.accounts.passwords.CommonPatternValidator"},
]

# Content Security Policy (django-csp 4): everything from this server only; inline <style> is allowed
# (the printable 明白纸 carries its own), inline scripts are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Audit chain anchor: a signed checkpoint of the chain head outside the table (audit.checkpoint).
FANGPIN_AUDIT_CHECKPOINT = Path(os.environ.get("FANGPIN_AUDIT_CHECKPOINT", VAR_DIR / "audit-checkpoint.json"))
# Which sealed decision records exist: a signed checkpoint outside the database (core.seal_checkpoint).
FANGPIN_INTEGRITY_CHECKPOINT = Path(
    os.environ.get("FANGPIN_INTEGRITY_CHECKPOINT", VAR_DIR / "integrity-checkpoint.jsonl")
)

# Upload guard (fangpin.core.uploads): every entry point, before any parser.
FANGPIN_UPLOAD_MAX_MB = _env_int("FANGPIN_UPLOAD_MAX_MB", 50)
FANGPIN_UPLOAD_MAX_ROWS = _env_int("FANGPIN_UPLOAD_MAX_ROWS", 300_000)
FANGPIN_UPLOAD_MAX_ZIP_ENTRIES = _env_int("FANGPIN_UPLOAD_MAX_ZIP_ENTRIES", 1000)
FANGPIN_UPLOAD_MAX_UNCOMPRESSED_MB = _env_int("FANGPIN_UPLOAD_MAX_UNCOMPRESSED_MB", 1024)
FANGPIN_UPLOAD_MAX_RATIO = _env_int("FANGPIN_UPLOAD_MAX_RATIO", 100)
DATA_UPLOAD_MAX_NUMBER_FILES = 5
# Files of a request above FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) stream to a temporary file that stops growing
# at FANGPIN_UPLOAD_MAX_MB (core.uploads.GuardedUploadHandler): no upload is held in memory or on disk past the
# cap before the guard refuses it. Form fields without files stay under DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "fangpin.core.uploads.GuardedUploadHandler",
]

# --- Encryption at rest of ID numbers and phones (issue #17 item 4; core.crypto, docs/parts/security.md).
# Development and test use fixed, public keys; production reads real ones from the environment and the
# system check fangpin.E_KEYS refuses development keys there.
from fangpin.core.crypto import dev_key as _dev_key  # noqa: E402

FANGPIN_DEV_KEYS = True
FANGPIN_DATA_KEYS = {"dev1": _dev_key("data")}
FANGPIN_DATA_KEY_ID = "dev1"
FANGPIN_INDEX_KEY = _dev_key("index", 32)
# Integrity seals of decision records (core.integrity): empty = derived from the data keys (core.crypto.integrity_keys).
FANGPIN_INTEGRITY_KEYS: dict[str, bytes] = {}
# The restore drill's scratch PostgreSQL database (core.drill): empty = the source's server and role (CREATEDB).
FANGPIN_DRILL_ADMIN_URL = os.environ.get("FANGPIN_DRILL_ADMIN_URL", "")
