from .base import *  # noqa: F403

DEBUG = True
FANGPIN_OTP_EXEMPT_ALLOWED = True  # demo users (otp_exempt) log in without a second factor, in dev only
