"""Parameters are read-only here: a change is a new version through ``policy.services.param_set`` (actor,
basis and document number recorded, audited) — ``fangpin params_set``, never an edit in place."""

from django.contrib import admin

from .models import Parameter


@admin.register(Parameter)
class ParameterAdmin(admin.ModelAdmin):
    list_display = ("key", "region_code", "year", "value", "version", "is_active", "basis")
    list_filter = ("key", "is_active")
    search_fields = ("key", "basis", "doc_no")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
