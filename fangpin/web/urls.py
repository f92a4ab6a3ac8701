from django.contrib.auth import views as auth_views
from django.urls import path

from fangpin.accounts.views import LoginView

from . import audit_views, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("households/", views.household_search, name="households"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("households/<int:household_id>/", views.household_file, name="household"),
    path("households/<int:household_id>/mingbaizhi/", views.household_mingbaizhi, name="mingbaizhi"),
]
