from __future__ import annotations

from django.http import HttpRequest

from .nav import nav_for


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    items = nav_for(user) if user is not None else []
    path = request.path
    for it in items:
        it["active"] = it["url"] != "/" and path.startswith(it["url"]) or (it["url"] == "/" and path == "/")
    return {"nav_items": items}
