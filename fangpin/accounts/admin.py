"""User administration: limited to the administrator's region, no privilege escalation through the admin
(superuser flag, groups and permissions only for superusers), every change audited."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from fangpin.audit.record import audit_record, diff

from .models import User

_AUDITED = ("username", "role", "region_id", "department", "display_name", "is_active", "is_staff",
            "is_superuser", "otp_exempt", "is_demo")  # fmt: skip


@admin.register(User)
class FangpinUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "region", "department", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "防贫",
            {"fields": ("role", "region", "department", "display_name", "phone", "otp_exempt", "is_demo")},
        ),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        prefix = request.user.scope_prefix
        return qs.none() if prefix is None else qs.filter(region__code__startswith=prefix)

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            ro += ["is_superuser", "groups", "user_permissions", "is_demo", "last_login", "date_joined"]
        return ro

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk:
            before = User.objects.filter(pk=obj.pk).values(*_AUDITED).first() or {}
        super().save_model(request, obj, form, change)
        after = {k: getattr(obj, k) for k in _AUDITED}
        audit_record(
            actor=request.user,
            event_type="accounts.user_change" if change else "accounts.user_create",
            obj=obj,
            region_code=obj.region_id or "",
            data={"changes": diff(before, after), "via": "admin"},
        )
