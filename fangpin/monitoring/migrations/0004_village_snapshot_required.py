# Step 3 of 3: every monitoring record has its village (filled by 0003).

import django.db.models.deletion
from django.db import migrations, models

HELP = "记录产生时农户所在行政村；户迁移时未办结事项随户转入新村，已办结记录留在原村"


def _field():
    return models.ForeignKey(
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="regions.region",
        verbose_name="所属村（记录所在地）",
        help_text=HELP,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0003_fill_village_snapshot"),
    ]

    operations = [
        migrations.AlterField(model_name=name, name="village", field=_field())
        for name in ("assignment", "case", "leadsource", "measure", "monitoringobject", "visit")
    ]
