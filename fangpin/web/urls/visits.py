from django.urls import path

from fangpin.web.views import risk as r
from fangpin.web.views import visits as v

urlpatterns = [
    path("", v.visits_home, name="visits"),
    path("risk/", r.risk_unvisited, name="risk_unvisited"),
    path("sw.js", v.visit_sw, name="visit_sw"),
    path("sync/", v.visit_sync_api, name="visit_sync"),
    path("sync/token/", v.visit_sync_token, name="visit_sync_token"),
]
