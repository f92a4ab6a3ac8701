from django.urls import path

from fangpin.web.views import households as v

urlpatterns = [
    path("", v.household_search, name="households"),
    path("export/", v.household_export, name="households_export"),
    path("changes/", v.change_list, name="changes"),
    path("changes/<int:request_id>/", v.change_decide, name="change_decide"),
    path("worklists/", v.worklist_save, name="worklist_save"),
    path("worklists/<int:worklist_id>/", v.worklist_open, name="worklist"),
    path("<int:household_id>/", v.household_file, name="household"),
    path("<int:household_id>/edit/", v.household_edit, name="household_edit"),
    path("<int:household_id>/assign/", v.household_assign, name="household_assign"),
    path("<int:household_id>/report/", v.household_report_risk, name="household_report"),
    path("<int:household_id>/mingbaizhi/", v.household_mingbaizhi, name="mingbaizhi"),
]
