"""The Django admin as a read-only window, limited to the user's region (side doors closed, issue #17).

Every change goes through the services (capability checks, versioning, audit), never through the admin.
Models with a registered region path are filtered by ``accounts.scope.scoped``; a model without one is
visible to superusers only (they do not exist in production, fangpin.E002)."""

from __future__ import annotations

import types

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

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


def _object_not_found(self, request, opts, object_id):
    """Instead of the admin's redirect "…不存在。也许它被删除了？": the Chinese 404 page, the same for a
    missing object and one outside the user's region, and the refusal audited (``access.refused``)."""
    from .access import access_refused_record

    pk = unquote(str(object_id))[:64]
    try:
        self.model._meta.pk.to_python(pk)
    except Exception:  # not even a valid key: recorded without the existence check
        pk = None
    access_refused_record(request.user, self.model, pk, what=str(opts.verbose_name))
    raise Http404(f"{opts.verbose_name}不存在或无权访问")


def _superuser_only_queryset(self, request):
    return admin_scoped(request, type(self).get_queryset(self, request))


def admin_harden(site: admin.AdminSite) -> None:
    """Called from ``fangpin.urls`` after autodiscovery, for every registered ModelAdmin:

    - an unknown or out-of-scope object id gets the audited Chinese 404 (ours and third-party admins);
    - a third-party admin (axes login records, django-otp devices, auth groups) shows its rows to
      superusers only, like any of our models without a region path: a staff user given a view
      permission must not read other users' devices or login attempts."""
    for model_admin in site._registry.values():
        model_admin._get_obj_does_not_exist_redirect = types.MethodType(_object_not_found, model_admin)
        if not type(model_admin).__module__.startswith("fangpin."):
            model_admin.get_queryset = types.MethodType(_superuser_only_queryset, model_admin)
