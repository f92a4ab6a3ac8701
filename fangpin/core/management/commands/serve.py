"""fangpin serve [--bind HOST:PORT] [--workers N] [--threads N]: the production web server — gunicorn with
``fangpin.settings.gunicorn`` (threaded workers, keep-alive, worker recycling; docs/howto/deploy.md). The
settings module is whatever DJANGO_SETTINGS_MODULE says (``fangpin.settings.prod`` in production). The static
assets are collected into STATIC_ROOT first (``--no-collectstatic`` when a release script already did)."""

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "启动生产 Web 服务（gunicorn，多线程工作进程；部署说明见 docs/howto/deploy.md）"

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="监听地址，默认 FANGPIN_BIND 或 127.0.0.1:8000")
        parser.add_argument("--workers", type=int, help="工作进程数，默认 FANGPIN_WEB_WORKERS 或 CPU 核数×2")
        parser.add_argument("--threads", type=int, help="每个进程的线程数，默认 FANGPIN_WEB_THREADS 或 4")
        parser.add_argument("--check-config", action="store_true", help="只检查配置并退出")
        parser.add_argument(
            "--no-collectstatic", action="store_true", help="不收集静态文件（已由部署脚本收集时）"
        )

    def handle(self, *args, **o):
        if not o["no_collectstatic"] and not o["check_config"]:
            # the assets gunicorn serves (WhiteNoise, from STATIC_ROOT): copied and compressed once per release
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:fangpin.settings.gunicorn"]
        if o["bind"]:
            argv += ["--bind", o["bind"]]
        if o["workers"]:
            argv += ["--workers", str(o["workers"])]
        if o["threads"]:
            argv += ["--threads", str(o["threads"])]
        if o["check_config"]:
            argv.append("--check-config")
        argv.append("fangpin.wsgi")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # gunicorn takes the process over (signals, reloads)
