from django.urls import path

from fangpin.web.views import screening as v

urlpatterns = [
    path("", v.screening_home, name="screening"),
    path("upload/<str:token>/", v.upload_preview, name="dept_upload_preview"),
    path("batches/<int:batch_id>/", v.dept_batch, name="dept_batch"),
    path("runs/start/", v.run_start, name="screening_run_start"),
    path("runs/<int:run_id>/", v.run_detail, name="screening_run"),
    path("runs/<int:run_id>/progress/", v.run_progress, name="screening_run_progress"),
    path("reviews/", v.reviews, name="screening_reviews"),
]
