from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(d: dict, key: str) -> Any:
    return d.get(key) if isinstance(d, dict) else None
