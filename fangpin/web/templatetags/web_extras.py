from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ names|get_item:code }}``: a dict lookup with a variable key."""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key


@register.filter
def pct(value):
    """``{{ 0.1234|pct }}`` → 12.3%; None → —."""
    return "—" if value is None else f"{float(value):.1%}"
