import functools

from django.apps import AppConfig


def _keep_refusals_in_commands() -> None:
    """Every management command (``fangpin X``, ``call_command``, a job calling one) is one unit of work like a
    request: a refusal recorded inside a service's rolled-back transaction is written again when it ends
    (``audit.refusals.kept_refusals``; requests get the same from ``RefusalAuditMiddleware``)."""
    from django.core.management.base import BaseCommand

    original = BaseCommand.execute
    if getattr(original, "fangpin_kept_refusals", False):
        return

    @functools.wraps(original)
    def execute(self, *args, **options):
        from .refusals import kept_refusals

        with kept_refusals():
            return original(self, *args, **options)

    execute.fangpin_kept_refusals = True
    BaseCommand.execute = execute


class AuditConfig(AppConfig):
    name = "fangpin.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self) -> None:
        _keep_refusals_in_commands()
