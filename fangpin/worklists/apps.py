from django.apps import AppConfig


class WorklistsConfig(AppConfig):
    name = "fangpin.worklists"
    label = "worklists"
    verbose_name = "工作清单"
