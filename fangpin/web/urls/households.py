from django.urls import path

from fangpin.web.views import households as v

urlpatterns = [
    path("", v.household_search, name="households"),
    path("<int:household_id>/", v.household_file, name="household"),
    path("<int:household_id>/mingbaizhi/", v.household_mingbaizhi, name="mingbaizhi"),
]
