"""Password rules beyond Django's (等保 8.1.4.1 a, AUTH-01): at least three of four character classes,
and no common password dressed up with capitals, digits and symbols (``Password@123``, ``Admin@2024``)."""

from __future__ import annotations

import re

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

# Words Chinese users put at the core of weak passwords, next to Django's 20,000-word list.
LOCAL_WORDS = frozenset(
    [
        "admin",
        "administrator",
        "root",
        "user",
        "test",
        "guest",
        "password",
        "passwd",
        "pass",
        "qwerty",
        "qwer",
        "asdf",
        "zxcv",
        "abc",
        "abcd",
        "woaini",
        "iloveyou",
        "zhongguo",
        "china",
        "beijing",
        "fangpin",
        "fupin",
        "fangpinjiance",
        "wang",
        "zhang",
        "li",
        "liu",
        "chen",
        "welcome",
        "letmein",
        "huawei",
        "baidu",
        "taobao",
        "weixin",
        "wechat",
        "qq",
        "aaaa",
    ]
)
_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")


class CharacterClassesValidator:
    """At least ``min_classes`` of lowercase, uppercase, digits and symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        n = sum(bool(re.search(c, password)) for c in _CLASSES)
        if n < self.min_classes:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、特殊符号中的至少{self.min_classes}类。",
                code="password_classes",
            )

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、特殊符号中的至少{self.min_classes}类。"


class CommonPatternValidator:
    """Refuses a common word with only digits/symbols around it or leetspeak in it (``P@ssw0rd!2024``)."""

    _LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "l", "3": "e", "$": "s", "5": "s", "!": "i"})

    def __init__(self) -> None:
        self._common = CommonPasswordValidator().passwords

    def _cores(self, password: str) -> set[str]:
        low = password.lower()
        cores = {re.sub(r"[^a-z]", "", low), re.sub(r"^[^a-z]+|[^a-z]+$", "", low)}
        cores.add(re.sub(r"[^a-z]", "", low.translate(self._LEET)))
        return {c for c in cores if c}

    def validate(self, password: str, user=None) -> None:
        for core in self._cores(password):
            if core in LOCAL_WORDS or (len(core) >= 4 and core in self._common):
                raise ValidationError(
                    "密码过于常见（常用单词加数字或符号），请换一个不易猜到的密码。",
                    code="password_common_pattern",
                )

    def get_help_text(self) -> str:
        return "不能是常用单词加数字或符号（如 Password@123）。"
