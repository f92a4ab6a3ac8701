from django.urls import path

from fangpin.web.views import home

urlpatterns = [
    path("", home.home, name="home"),
]
