from django.urls import path

from fangpin.web.views import stats as v

urlpatterns = [
    path("", v.stats_home, name="stats"),
    path("list/", v.stats_list, name="stats_list"),
    path("reports/", v.reports_home, name="reports"),
    path("reports/go/", v.report_go, name="report_go"),
    path("reports/<str:kind>/<int:year>/<int:number>/", v.report_view, name="report"),
]
