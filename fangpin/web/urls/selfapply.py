from django.urls import path

from fangpin.web.views import selfapply as v

urlpatterns = [
    path("", v.self_apply, name="self_apply"),
    path("done/<str:ack_no>/", v.self_apply_done, name="self_apply_done"),
    path("lookup/", v.self_apply_lookup, name="self_apply_lookup"),
]
