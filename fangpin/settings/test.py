import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import HUEY

# Tasks run in-process, through the real Huey machinery (enqueue → execute → result).
HUEY = {**HUEY, "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FANGPIN_FILES_DIR = Path(tempfile.mkdtemp(prefix="fangpin-test-files-"))
