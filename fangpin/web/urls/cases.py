from django.urls import path

from fangpin.web.views import cases as v

urlpatterns = [
    path("", v.case_list, name="cases"),
    path("batch/", v.case_batch, name="case_batch"),
    path("<int:case_id>/", v.case_detail, name="case"),
    path("<int:case_id>/step/", v.case_step, name="case_step"),
    path("<int:case_id>/action/", v.case_action, name="case_action"),
    path("<int:case_id>/notice/", v.case_notice, name="case_notice"),
    path("leads/", v.lead_list, name="leads"),
    path("leads/<int:lead_id>/", v.lead_detail, name="lead"),
    path("leads/<int:lead_id>/action/", v.lead_action, name="lead_action"),
    path("objects/<int:object_id>/", v.object_detail, name="monitoring_object"),
    path("objects/<int:object_id>/action/", v.object_action, name="object_action"),
]
