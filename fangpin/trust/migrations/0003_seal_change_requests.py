# Seals the maker-checker decisions (ChangeRequest), INT-01.

from django.db import migrations, models

# The sealed fields as of this migration (frozen: a later change to SEAL_FIELDS re-seals in its own migration).
FIELDS = ("number", "household", "kind", "payload", "evidence", "reason", "source_kind", "required_level",
          "status", "maker", "checker", "created_at", "decided_at", "decision_reason", "applied_changes",
          "result")  # fmt: skip


def seal_existing(apps, schema_editor):
    """Seals every existing change request (core.integrity) under the current integrity key."""
    from fangpin.core.integrity import reseal_rows

    reseal_rows(apps.get_model("trust", "ChangeRequest"), using=schema_editor.connection.alias, fields=FIELDS)


class Migration(migrations.Migration):
    dependencies = [
        ("trust", "0002_seal_change_payload"),
    ]

    operations = [
        migrations.AddField(
            model_name="changerequest",
            name="integrity_mac",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=96, verbose_name="完整性校验码"
            ),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
    ]
