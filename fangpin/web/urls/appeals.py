from django.urls import path

from fangpin.web.views import appeals as v

urlpatterns = [
    path("", v.appeal_list, name="appeals"),
    path("<int:appeal_id>/", v.appeal_detail, name="appeal"),
    path("lodge/<int:household_id>/", v.appeal_lodge_form, name="appeal_lodge"),
]
