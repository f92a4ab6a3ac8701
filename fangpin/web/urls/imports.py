from django.urls import path

from fangpin.web.views import imports as v

urlpatterns = [
    path("", v.imports_home, name="imports"),
    path("<int:batch_id>/", v.import_batch, name="import_batch"),
    path("<int:batch_id>/progress/", v.import_progress, name="import_progress"),
    path("<int:batch_id>/confirm/", v.import_confirm, name="import_confirm"),
    path("<int:batch_id>/report/", v.import_report, name="import_report"),
    path("<int:batch_id>/mapping/", v.import_mapping, name="import_mapping"),
]
