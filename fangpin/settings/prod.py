import os

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ["FANGPIN_SECRET_KEY"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
