"""Django admin for the registry, limited to the admin user's region and masking personal data.

The admin is a tool for county administrators (is_staff); field users get the application UI. Even here every
queryset goes through ``accounts.scope.scoped``."""

from django.contrib import admin

from fangpin.accounts.admin_base import ReadOnlyScopedAdmin
from fangpin.core import clock
from fangpin.core.masking import age_on, mask_id_number, mask_phone, mask_text

from .models import FactProvenance, Household, IncomeRecord, MemberChange, Person
from .models.living import HouseholdLivingConditions, VillageProfile


class ScopedAdmin(ReadOnlyScopedAdmin):
    """Read-only and region-scoped: registry changes go through the services (versioned, audited);
    nothing in the registry is ever deleted (households are cancelled, 注销)."""


def _age(obj) -> int | None:
    return age_on(obj.birth_date, clock.today())


class PersonInline(admin.TabularInline):
    model = Person
    fields = ("name", "relation", "gender", "age", "masked_id", "health", "labour_skill", "is_member")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="证件号码")
    def masked_id(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description="年龄")
    def age(self, obj):  # never the birth date next to a masked ID
        return _age(obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("household_no", "village", "group_name", "household_type", "status", "masked_phone")
    list_filter = ("household_type", "status", "house_grade")
    search_fields = ("household_no",)
    raw_id_fields = ("village",)
    inlines = [PersonInline]
    exclude = ("phone",)

    @admin.display(description="户联系电话")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    list_display = (
        "name",
        "masked_id",
        "household",
        "relation",
        "gender",
        "age",
        "health",
        "is_member",
    )
    list_filter = ("health", "labour_skill", "is_member", "dibao")
    search_fields = ("name", "household__household_no")
    raw_id_fields = ("household",)
    fields = (
        "name",
        "masked_id",
        "household",
        "relation",
        "gender",
        "age",
        "health",
        "labour_skill",
        "is_member",
    )
    readonly_fields = fields

    @admin.display(description="证件号码")
    def masked_id(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description="年龄")
    def age(self, obj):
        return _age(obj)


@admin.register(IncomeRecord)
class IncomeRecordAdmin(ScopedAdmin):
    list_display = (
        "household",
        "period_start",
        "period_end",
        "wage",
        "production_business",
        "production_expense",
    )
    raw_id_fields = ("household",)


@admin.register(MemberChange)
class MemberChangeAdmin(ScopedAdmin):
    list_display = ("household", "person", "kind", "date")
    raw_id_fields = ("household", "person")


@admin.register(FactProvenance)
class FactProvenanceAdmin(ScopedAdmin):
    list_display = ("household", "entity", "field", "masked_value", "source_kind", "status", "recorded_at")
    exclude = ("value",)
    readonly_fields = ("masked_value",)

    @admin.display(description="值")
    def masked_value(self, obj):  # a recorded ID number or phone stays masked here too
        return mask_text(str(obj.value or ""))

    list_filter = ("source_kind", "status")
    raw_id_fields = ("household",)


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Imported facts of the other national files: shown, never edited here (a new file import or a
    change request changes them, with history)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(HouseholdLivingConditions)
class HouseholdLivingConditionsAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "household",
        "has_electricity",
        "road_hardened",
        "is_dangerous_house",
        "has_sanitary_toilet",
        "safe_drinking_water",
        "source_ref",
    )
    list_filter = ("is_dangerous_house", "has_sanitary_toilet", "safe_drinking_water")
    search_fields = ("household__household_no",)
    raw_id_fields = ("household",)


@admin.register(VillageProfile)
class VillageProfileAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "village",
        "delisted",
        "households_total",
        "population_total",
        "dibao_households",
        "dangerous_house_households",
        "unsafe_water_households",
        "source_ref",
    )
    list_filter = ("delisted",)
    search_fields = ("village__name", "village__code")
    raw_id_fields = ("village",)
