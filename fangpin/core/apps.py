from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fangpin.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from . import checks, crypto  # noqa: F401  (system checks)
        from .masking import install_log_masking

        install_log_masking()

        from .pg_timestamps import install

        install()  # timestamptz values parsed in C (the same values as Django's loader)

        def _keys_changed(setting: str, **kwargs) -> None:
            if setting.startswith(("FANGPIN_DATA_KEY", "FANGPIN_INDEX_KEY", "FANGPIN_INTEGRITY_KEY")):
                crypto.reset()

        setting_changed.connect(_keys_changed, weak=False)
