from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "fangpin.trust"
    label = "trust"
    verbose_name = "可信户档案（来源、变更、申诉）"

    def ready(self) -> None:
        from fangpin.accounts.scope import register_region_path

        from . import models as m

        # Past records stay where they happened (their own village snapshot); work that is still to do
        # (tasks, consents, re-verifications) follows the household.
        for model in (m.Discrepancy, m.ChangeRequest, m.Appeal, m.DisasterLoss, m.DisasterVillage):
            register_region_path(model, "village__code")
        for model in (m.Task, m.Consent, m.Recertification):
            register_region_path(model, "household__village__code")

        # after an import moved a household, trust's open items (requests, appeals, discrepancies) follow
        from fangpin.registry import hooks

        from .services.changes import open_items_follow

        def follow(*, actor, household, old_village, new_village, on):
            open_items_follow(household)
            return True

        hooks.register_move_follower("trust", follow)
