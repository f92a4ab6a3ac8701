"""System checks of the encryption keys (``core.crypto``): production never runs on the public development keys."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from . import crypto


@register()
def encryption_keys(app_configs=None, **kwargs) -> list[Error]:
    errors: list[Error] = []
    try:
        ring = crypto.keyring()
    except (crypto.MissingKeyError, ValueError) as e:
        return [Error(f"数据加密密钥不可用：{e}", id="fangpin.E_KEYS")]
    if not getattr(settings, "FANGPIN_DEV_KEYS", False):
        public = {crypto.dev_key("data"), crypto.dev_key("index", 32), crypto.dev_key("index")}
        index_keys = list(ring.index_keys.values())
        if any(k in public for k in index_keys) or any(k in public for k in ring.keys.values()):
            errors.append(
                Error(
                    "生产环境使用了公开的开发密钥（FANGPIN_DATA_KEYS / FANGPIN_INDEX_KEY）",
                    id="fangpin.E_KEYS",
                )
            )
        if any(k in ring.keys.values() for k in index_keys):
            errors.append(Error("索引密钥不得与数据密钥相同", id="fangpin.E_KEYS"))
    return errors
