from django.contrib import admin
from django.urls import include, path

from fangpin.accounts.admin_base import admin_harden

admin.site.site_header = "防贫 fangpin 管理"
admin.site.site_title = "防贫 fangpin"
admin_harden(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("fangpin.api.urls")),
    path("account/", include("fangpin.accounts.urls")),
    path("", include("fangpin.web.urls")),
]

handler400 = "fangpin.web.views.errors.bad_request"
handler403 = "fangpin.web.views.errors.permission_denied"
handler404 = "fangpin.web.views.errors.page_not_found"
handler500 = "fangpin.web.views.errors.server_error"
