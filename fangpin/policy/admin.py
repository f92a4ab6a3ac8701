from django.contrib import admin

from .models import Parameter


@admin.register(Parameter)
class ParameterAdmin(admin.ModelAdmin):
    list_display = ("key", "region_code", "year", "value", "version", "is_active", "basis")
    list_filter = ("key", "is_active")
    search_fields = ("key", "basis", "doc_no")
    readonly_fields = ("version", "created_by", "created_at")
