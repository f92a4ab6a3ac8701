from django.urls import path

from fangpin.web.views import cases as v

urlpatterns = [
    path("", v.case_list, name="cases"),
]
