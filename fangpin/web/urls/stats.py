from django.urls import path

from fangpin.web.views import stats as v
from fangpin.web.views import whatif as w

urlpatterns = [
    path("", v.stats_home, name="stats"),
    path("list/", v.stats_list, name="stats_list"),
    path("reports/", v.reports_home, name="reports"),
    path("reports/go/", v.report_go, name="report_go"),
    path("reports/<str:kind>/<int:year>/<int:number>/", v.report_view, name="report"),
    path("whatif/", w.whatif_home, name="whatif"),
    path("whatif/list/", w.whatif_list, name="whatif_list"),
    path("whatif/export/", w.whatif_export, name="whatif_export"),
    path("whatif/full/", w.whatif_full, name="whatif_full"),
    path("whatif/result/<str:token>/", w.whatif_result, name="whatif_result"),
    path("whatif/recompute/<int:param_id>/", w.whatif_recompute, name="whatif_recompute"),
]
