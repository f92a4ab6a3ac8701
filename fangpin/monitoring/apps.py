from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fangpin.monitoring"
    label = "monitoring"
    verbose_name = "防返贫动态监测"

    def ready(self) -> None:
        from fangpin.accounts.scope import register_region_path

        from .models import (
            Assignment,
            Case,
            CaseEvent,
            CaseStep,
            Lead,
            LeadSource,
            Measure,
            MonitoringObject,
            Visit,
        )

        for m in (Lead, MonitoringObject, Case, Measure, Visit, Assignment):
            register_region_path(m, "household__village__code")
        register_region_path(LeadSource, "lead__household__village__code")
        register_region_path(CaseStep, "case__household__village__code")
        register_region_path(CaseEvent, "case__household__village__code")
