from django.urls import path

from fangpin.web.views import admin as v

urlpatterns = [
    path("", v.admin_home, name="admin_home"),
    path("users/", v.users, name="admin_users"),
    path("regions/", v.regions, name="admin_regions"),
    path("params/", v.params, name="admin_params"),
    path("params/<str:key>/", v.param_detail, name="admin_param"),
    path("measures/", v.measures, name="admin_measures"),
    path("screening/", v.screening_rules, name="admin_screening"),
    path("calendar/", v.calendar, name="admin_calendar"),
]
