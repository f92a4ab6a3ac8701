from django.urls import path

from fangpin.web.views import households as v

urlpatterns = [
    path("", v.household_search, name="households"),
    path("export/", v.household_export, name="households_export"),
    path("exports/", v.export_jobs_list, name="export_jobs"),
    path("exports/<int:job_id>/", v.export_job, name="export_job"),
    path("exports/<int:job_id>/status/", v.export_job_status, name="export_job_status"),
    path("exports/<int:job_id>/download/", v.export_job_download, name="export_job_download"),
    path("changes/", v.change_list, name="changes"),
    path("changes/<int:request_id>/", v.change_decide, name="change_decide"),
    path("worklists/", v.worklist_save, name="worklist_save"),
    path("worklists/<int:worklist_id>/", v.worklist_open, name="worklist"),
    path("<int:household_id>/", v.household_file, name="household"),
    path("<int:household_id>/findings/", v.household_findings, name="household_findings"),
    path("<int:household_id>/edit/", v.household_edit, name="household_edit"),
    path("<int:household_id>/assign/", v.household_assign, name="household_assign"),
    path("<int:household_id>/report/", v.household_report_risk, name="household_report"),
    path("<int:household_id>/mingbaizhi/", v.household_mingbaizhi, name="mingbaizhi"),
]
