"""The Django admin as a read-only window, limited to the user's region (side doors closed, issue #17).

Every change goes through the services (capability checks, versioning, audit), never through the admin.
Models with a registered region path are filtered by ``accounts.scope.scoped``; a model without one is
visible to superusers only (they do not exist in production, fangpin.E002)."""

from __future__ import annotations

from django.contrib import admin

from .scope import REGION_PATHS, scoped


def admin_scoped(request, qs):
    if qs.model._meta.label in REGION_PATHS:
        return scoped(request.user, qs)
    return qs if request.user.is_superuser else qs.none()


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return admin_scoped(request, super().get_queryset(request))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
