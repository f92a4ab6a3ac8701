from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "fangpin.risk"
    label = "risk"
    verbose_name = "返贫致贫风险预警"

    def ready(self) -> None:
        from fangpin.accounts.scope import register_region_path

        from .models import RiskScore

        register_region_path(RiskScore, "household__village__code")
