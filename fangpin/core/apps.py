from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fangpin.core"
    label = "core"
    verbose_name = "基础"
