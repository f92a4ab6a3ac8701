"""Settings shared by every environment. Topic-specific values come from the environment.

DATABASE_URL selects the system of record (SQLite by default, PostgreSQL in production).
FANGPIN_VAR is the folder for the SQLite file, the task-queue store and generated files.
"""

from __future__ import annotations

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
    "fangpin.trust",
    "fangpin.demo",
    "fangpin.reports",
    "fangpin.web",
    "fangpin.api",
    "ninja",
    "fangpin.worklists",
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
SESSION_SAVE_EVERY_REQUEST = True
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
