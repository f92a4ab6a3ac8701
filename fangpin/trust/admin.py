"""Read-only, region-scoped admin views (changes go through the trust services, audited)."""

from django.contrib import admin

from fangpin.accounts.admin_base import ReadOnlyScopedAdmin
from fangpin.core.masking import mask_text

from . import models as m


@admin.register(m.Discrepancy)
class DiscrepancyAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "household",
        "field_label",
        "masked_registry_value",
        "masked_proposed_value",
        "department",
        "status",
        "due_on",
    )
    list_filter = ("status", "department")
    exclude = ("registry_value", "proposed_value")
    readonly_fields = ("masked_registry_value", "masked_proposed_value")

    @admin.display(description="户档案值")
    def masked_registry_value(self, obj):
        return mask_text(str(obj.registry_value or ""))

    @admin.display(description="部门数据值")
    def masked_proposed_value(self, obj):
        return mask_text(str(obj.proposed_value or ""))


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
