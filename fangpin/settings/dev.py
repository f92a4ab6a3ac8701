import os

from .base import *  # noqa: F403

# The demo is used by people who are not developers: no debug page unless asked for (FANGPIN_DEBUG=1).
# Without DEBUG, `runserver --insecure` serves the static files.
DEBUG = os.environ.get("FANGPIN_DEBUG", "") == "1"
FANGPIN_OTP_EXEMPT_ALLOWED = True  # demo users (otp_exempt) log in without a second factor, in dev only
