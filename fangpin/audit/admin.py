from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor", "event_type", "object_type", "object_id", "result")
    list_filter = ("event_type",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.can("audit.view") else qs.none()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
