# Seals the case history (CaseEvent: approvals, rejections, pauses, reversals with their reasons), INT-01.

from django.db import migrations, models

# The sealed fields as of this migration (frozen: a later change to SEAL_FIELDS re-seals in its own migration).
FIELDS = ("case", "at", "on", "actor", "actor_role", "kind", "step", "data", "audit_seq")


def seal_existing(apps, schema_editor):
    """Seals every existing case event (core.integrity) under the current integrity key."""
    from fangpin.core.integrity import reseal_rows

    reseal_rows(apps.get_model("monitoring", "CaseEvent"), using=schema_editor.connection.alias, fields=FIELDS)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0007_integrity_seal"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="integrity_mac",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=96, verbose_name="完整性校验码"
            ),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
    ]
