from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "防贫 fangpin 管理"
admin.site.site_title = "防贫 fangpin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/", include("fangpin.accounts.urls")),
    path("", include("fangpin.web.urls")),
]
