from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fangpin.monitoring"
    label = "monitoring"
