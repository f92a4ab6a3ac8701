from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "fangpin.policy"
    label = "policy"
    verbose_name = "政策参数"

    def ready(self) -> None:
        from fangpin.core.clock import calendar_register

        from .calendar import year_days

        calendar_register(year_days)
