"""Routes of the browser application. Each area keeps its own list in ``urls/<area>.py`` (names live in
the ``web`` namespace) and is added here with one line."""

from django.urls import include, path

from fangpin.web import audit_views

app_name = "web"

urlpatterns = [
    path("", include("fangpin.web.urls.auth")),
    path("", include("fangpin.web.urls.home")),
    path("households/", include("fangpin.web.urls.households")),
    path("cases/", include("fangpin.web.urls.cases")),
    path("appeals/", include("fangpin.web.urls.appeals")),
    path("visits/", include("fangpin.web.urls.visits")),
    path("stats/", include("fangpin.web.urls.stats")),
    path("imports/", include("fangpin.web.urls.imports")),
    path("apply/", include("fangpin.web.urls.selfapply")),
    path("screening/", include("fangpin.web.urls.screening")),
    path("manage/", include("fangpin.web.urls.admin")),
    path("audit/", audit_views.audit_log, name="audit"),
]
