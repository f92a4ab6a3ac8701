from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fangpin.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from . import auth_events, checks  # noqa: F401  (signal receivers, system checks)

        auth_events.connect_lockout_audit()
