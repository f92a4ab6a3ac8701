"""Substring search over a county (PostgreSQL only; SQLite keeps plain LIKE scans).

- ``fangpin_bigrams(text)``: the distinct two-character substrings of a text. A GIN index on the bigrams of
  current members' names answers ``name LIKE '%q%'`` for any q of two characters or more (a Chinese name
  search is mostly two characters, below what pg_trgm's trigrams can index).
- pg_trgm GIN on 户编号 for ``household_no LIKE '%q%'`` (numbers are typed in longer pieces).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE OR REPLACE FUNCTION fangpin_bigrams(t text) RETURNS text[]
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
       $$ SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}'::text[])
          FROM generate_series(1, char_length(t) - 1) AS i $$""",
    "CREATE INDEX IF NOT EXISTS registry_person_name_bigrams ON registry_person "
    "USING gin (fangpin_bigrams(name)) WHERE is_member",
    "CREATE INDEX IF NOT EXISTS registry_household_no_trgm ON registry_household "
    "USING gin (household_no gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS registry_household_no_trgm",
    "DROP INDEX IF EXISTS registry_person_name_bigrams",
    "DROP FUNCTION IF EXISTS fangpin_bigrams(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_household_flags")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
