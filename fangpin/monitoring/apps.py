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

        # Each record is scoped by its own village (models/snapshot.py), not the household's current one:
        # after a move the finished past stays with the old village, open work follows the household
        # (services/moves.py). Steps and events belong to their case.
        for m in (Lead, LeadSource, MonitoringObject, Case, Measure, Visit, Assignment):
            register_region_path(m, "village__code")
        register_region_path(CaseStep, "case__village__code")
        register_region_path(CaseEvent, "case__village__code")
