"""The scopes a 承诺授权书 (consent) can cover, in words: the self-application form offers them, the screening
rules' consent requirement is shown by them."""

from __future__ import annotations

SCOPE_LABELS = {
    "all": "全部（收入、资产、医疗、社保、车辆、房产、工商）",
    "income": "收入",
    "assets": "存款等金融资产",
    "medical": "医疗",
    "social_security": "社保",
    "vehicles": "车辆",
    "property": "房产",
    "business": "工商登记",
}
