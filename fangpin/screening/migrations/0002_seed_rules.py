"""Seed screening rules from fangpin/screening/data/rules.json (idempotent: existing codes kept)."""

import json
from pathlib import Path

from django.db import migrations


def seed(apps, schema_editor):
    Rule = apps.get_model("screening", "ScreeningRule")
    path = Path(__file__).resolve().parent.parent / "data" / "rules.json"
    for r in json.loads(path.read_text(encoding="utf-8"))["rules"]:
        Rule.objects.get_or_create(code=r["code"], defaults=r)


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
