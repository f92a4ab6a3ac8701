"""Seed screening rules from fangpin/screening/data/rules.json (idempotent: existing codes kept)."""

import json
from pathlib import Path

from django.db import migrations


def seed(apps, schema_editor):
    Rule = apps.get_model("screening", "ScreeningRule")
    path = Path(__file__).resolve().parent.parent / "data" / "rules.json"
    known = {f.name for f in Rule._meta.get_fields()}  # fields added later are set by their migration
    for r in json.loads(path.read_text(encoding="utf-8"))["rules"]:
        Rule.objects.get_or_create(code=r["code"], defaults={k: v for k, v in r.items() if k in known})


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
