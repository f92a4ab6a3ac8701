from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "fangpin.registry"
    label = "registry"
    verbose_name = "建档立卡户籍库"

    def ready(self) -> None:
        from fangpin.accounts.scope import register_region_path

        from .models import FactProvenance, Household, IncomeRecord, MemberChange, Person

        register_region_path(Household, "village__code")
        for m in (Person, MemberChange, IncomeRecord, FactProvenance):
            register_region_path(m, "household__village__code")
        from .models import HouseholdLivingConditions, VillageProfile

        register_region_path(HouseholdLivingConditions, "household__village__code")
        register_region_path(VillageProfile, "village__code")
        from . import signals

        signals.connect()
