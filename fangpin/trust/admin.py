"""Read-only, region-scoped admin views (changes go through the trust services, audited)."""

from django.contrib import admin

from fangpin.accounts.admin_base import ReadOnlyScopedAdmin

from . import models as m


@admin.register(m.Discrepancy)
class DiscrepancyAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "household",
        "field_label",
        "registry_value",
        "proposed_value",
        "department",
        "status",
        "due_on",
    )
    list_filter = ("status", "department")


@admin.register(m.ChangeRequest)
class ChangeRequestAdmin(ReadOnlyScopedAdmin):
    list_display = ("number", "household", "kind", "required_level", "status", "maker", "checker")
    list_filter = ("status", "kind", "required_level")


@admin.register(m.Appeal)
class AppealAdmin(ReadOnlyScopedAdmin):
    list_display = ("number", "household", "kind", "owner_level", "deadline", "status", "outcome")
    list_filter = ("status", "kind", "owner_level")


@admin.register(m.DisasterEvent)
class DisasterEventAdmin(ReadOnlyScopedAdmin):
    list_display = ("number", "kind", "occurred_on", "severity", "source_ref")


for model in (m.Task, m.Consent, m.Recertification, m.DisasterLoss, m.OutgoingMessage):
    admin.site.register(model, ReadOnlyScopedAdmin)
