import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from fangpin.accounts.models import User


@pytest.mark.parametrize(
    "password,ok",
    [
        ("Abc12345", False),  # too short
        ("abcdefghijk1", False),  # two classes only
        ("Password@123", False),  # common word dressed up
        ("P@ssw0rd!2024", False),  # leetspeak of a common word
        ("Admin@2024!", False),
        ("Woaini@1314", False),
        ("Fp#2025county", True),
        ("Xq7#mLp2!vRt", True),
    ],
)
def test_password_rules(password, ok):
    user = User(username="wang_li", display_name="王丽")
    if ok:
        validate_password(password, user)
    else:
        with pytest.raises(ValidationError) as e:
            validate_password(password, user)
        assert all(
            any("\u4e00" <= ch <= "\u9fff" for ch in m) or "password" in m.lower() for m in e.value.messages
        )
