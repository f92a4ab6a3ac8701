# Region scope of monitoring records moves from the household's current village to the record's own
# village (issue 10: after a move the past stays where it happened). Step 1 of 3: nullable columns.

import django.db.models.deletion
from django.db import migrations, models

HELP = "记录产生时农户所在行政村；户迁移时未办结事项随户转入新村，已办结记录留在原村"


def _field():
    return models.ForeignKey(
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="regions.region",
        verbose_name="所属村（记录所在地）",
        help_text=HELP,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("regions", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name=name, name="village", field=_field())
        for name in ("assignment", "case", "leadsource", "measure", "monitoringobject", "visit")
    ]
