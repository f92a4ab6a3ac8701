"""gunicorn settings for production: ``gunicorn -c python:fangpin.settings.gunicorn fangpin.wsgi`` (or
``fangpin serve``). Every value can be set from the environment; docs/howto/deploy.md says why each is what it is.

Threaded workers (gthread): a request of this application spends much of its time waiting on PostgreSQL, and
with sync workers every user behind a slow request (an export, a list that refreshes its flags) waits for the
whole of it: on the 2-core bench box, 4 sync workers gave a p99 of 1.3 s even for ``GET /me``, 4 x 4 threads
150 ms (docs/parts/web.md, Performance). Django is thread-safe per request; the per-request caches of this
project (``core.memo``, ``policy.params.param_cache``) are thread-local or request-scoped.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# TLS ends at the county's reverse proxy (docs/howto/deploy.md), which forwards to this address.
bind = os.environ.get("FANGPIN_BIND", "127.0.0.1:8000")
workers = _int("FANGPIN_WEB_WORKERS", max(2, multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = _int("FANGPIN_WEB_THREADS", 4)
# Longer than a user's pause between two clicks (the browser keeps its connection; gunicorn's default of 2 s
# reset connections the load bench's users were about to reuse), shorter than the proxy's upstream keep-alive.
keepalive = _int("FANGPIN_WEB_KEEPALIVE", 5)
# An export or a report larger than a page runs as a background job; a request still held after this long is a
# fault, and the worker is replaced.
timeout = _int("FANGPIN_WEB_TIMEOUT", 120)
graceful_timeout = 30
# Recycle workers now and then (a slow leak in a library must not grow for months), at staggered moments.
max_requests = _int("FANGPIN_WEB_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
# No access log by default: request lines carry search terms (an ID number typed into search), and the access
# logger is not one of settings.LOGGING's masked handlers. The application audits what it must
# (audit.record); a deployment that wants the access log enables it here and masks it (core.masking).
accesslog = os.environ.get("FANGPIN_WEB_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("FANGPIN_WEB_LOGLEVEL", "warning")
# The reverse proxy on the same host is the only client that may set X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FANGPIN_FORWARDED_ALLOW_IPS", "127.0.0.1")
