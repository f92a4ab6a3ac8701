from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fangpin.monitoring"
    label = "monitoring"
    verbose_name = "防返贫动态监测"

    def ready(self) -> None:
        from fangpin.accounts.scope import register_assigned_households, register_region_path

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
        register_assigned_households(assigned_household_ids)

        # what the registry (upstream) asks of monitoring: import hand-over, export columns, who is monitored
        from fangpin.registry import hooks

        from . import checks, selectors  # noqa: F401  (checks registers the M-* rules in the registry runner)
        from .household_search import HouseholdFilter, household_search_qs
        from .services.enrolment import ExistingEnrolment, enrol_existing, enrol_existing_many
        from .services.imported_measures import measures_import
        from .services.moves import open_work_follow_household

        def enrol_many(*, actor, items):  # the registry passes plain dicts (it imports nothing of monitoring)
            return enrol_existing_many(actor=actor, items=[ExistingEnrolment(**it) for it in items])

        def search(*, actor, params, on, gate=True):
            f = HouseholdFilter.from_params(params)
            return household_search_qs(actor=actor, f=f, on=on, gate=gate), f.as_params()

        hooks.register_monitoring(
            hooks.MonitoringHooks(
                enrol_existing=enrol_existing,
                enrol_existing_many=enrol_many,
                export_facts=selectors.monitoring_export_facts,
                objects_on=selectors.monitoring_objects_on,
                measures_import=measures_import,
                household_search=search,
            )
        )

        def follow(*, actor, household, old_village, new_village, on):
            return open_work_follow_household(
                actor=actor, household=household, old_village=old_village, new_village=new_village, on=on
            ).as_dict()

        hooks.register_move_follower("monitoring", follow)


def assigned_household_ids(user):
    """The households a helper currently has (帮扶责任人 or 包户干部 assignment without an end)."""
    from .models import Assignment

    return Assignment.objects.filter(user=user, end_on__isnull=True).values_list("household_id", flat=True)
