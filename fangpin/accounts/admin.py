from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class FangpinUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "region", "department", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("防贫", {"fields": ("role", "region", "department", "display_name", "phone")}),
    )
