from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "fangpin.audit"
    label = "audit"
    verbose_name = "审计"
