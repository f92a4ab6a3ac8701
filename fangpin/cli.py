"""`fangpin` command line: every management command of the project, e.g. `fangpin import_registry FILE`."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["fangpin", *sys.argv[1:]])
