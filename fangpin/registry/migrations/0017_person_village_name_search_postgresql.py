"""A village's name search answered inside the village (PostgreSQL only; SQLite keeps plain LIKE scans).

The bigram index of 0008 is county-wide: a common two-character term (王秀, 张建) matches thousands of people
of the county's million before the scope narrows them to a cadre's village, and every one of them is read
from the heap and rechecked. Here the index key carries the village:

- ``registry_person.search_village``: the village code of the person's household, a column PostgreSQL keeps
  (not a model field, nothing in Python writes or reads it but the search): set by a trigger on every insert
  of a person and every update of its ``household_id``; rewritten for a household's persons when the
  household's ``village_id`` changes; filled for persons written before their household in one transaction
  (the foreign keys are deferred) when the household is inserted.
- ``fangpin_village_bigrams(village, text)``: the text's bigrams, each prefixed by the 12-digit village code.
- a GIN index on ``fangpin_village_bigrams(search_village, name) WHERE is_member``: a term's posting list in
  one village is the village's matches only (``monitoring.household_search.name_match_households``).
- the GIN search indexes (this one and 0008's) without a pending list (``fastupdate = off``).
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE registry_person ADD COLUMN IF NOT EXISTS search_village varchar(12)",
    """UPDATE registry_person p SET search_village = h.village_id FROM registry_household h
       WHERE h.id = p.household_id AND p.search_village IS DISTINCT FROM h.village_id""",
    """CREATE OR REPLACE FUNCTION fangpin_village_bigrams(v text, t text) RETURNS text[]
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
       $$ SELECT coalesce(array_agg(DISTINCT v || substr(t, i, 2)), '{}'::text[])
          FROM generate_series(1, char_length(t) - 1) AS i $$""",
    """CREATE OR REPLACE FUNCTION fangpin_person_search_village() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         NEW.search_village := (SELECT village_id FROM registry_household WHERE id = NEW.household_id);
         RETURN NEW;
       END $$""",
    """CREATE OR REPLACE FUNCTION fangpin_household_search_village() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE registry_person SET search_village = NEW.village_id
          WHERE household_id = NEW.id AND search_village IS DISTINCT FROM NEW.village_id;
         RETURN NULL;
       END $$""",
    "DROP TRIGGER IF EXISTS registry_person_search_village ON registry_person",
    """CREATE TRIGGER registry_person_search_village
       BEFORE INSERT OR UPDATE OF household_id, search_village ON registry_person
       FOR EACH ROW EXECUTE FUNCTION fangpin_person_search_village()""",
    "DROP TRIGGER IF EXISTS registry_household_search_village ON registry_household",
    """CREATE TRIGGER registry_household_search_village
       AFTER UPDATE OF village_id ON registry_household
       FOR EACH ROW WHEN (OLD.village_id IS DISTINCT FROM NEW.village_id)
       EXECUTE FUNCTION fangpin_household_search_village()""",
    "DROP TRIGGER IF EXISTS registry_household_search_village_new ON registry_household",
    """CREATE TRIGGER registry_household_search_village_new
       AFTER INSERT ON registry_household
       FOR EACH ROW EXECUTE FUNCTION fangpin_household_search_village()""",
    "CREATE INDEX IF NOT EXISTS registry_person_village_name_bigrams ON registry_person "
    "USING gin (fangpin_village_bigrams(search_village, name)) WITH (fastupdate = off) WHERE is_member",
    # the search indexes without GIN's pending list: with it every search scanned the whole list of recent
    # writes (up to gin_pending_list_limit, 4 MB, until a vacuum merges it: 13 of a search's 30 ms at a
    # million persons); a person's few bigrams are cheap to insert directly
    "ALTER INDEX registry_person_name_bigrams SET (fastupdate = off)",
    "ALTER INDEX registry_household_no_trgm SET (fastupdate = off)",
    "SELECT gin_clean_pending_list('registry_person_name_bigrams'::regclass)",
    "SELECT gin_clean_pending_list('registry_household_no_trgm'::regclass)",
    "ANALYZE registry_person",
]
BACKWARD = [
    "ALTER INDEX registry_household_no_trgm RESET (fastupdate)",
    "ALTER INDEX registry_person_name_bigrams RESET (fastupdate)",
    "DROP INDEX IF EXISTS registry_person_village_name_bigrams",
    "DROP TRIGGER IF EXISTS registry_household_search_village_new ON registry_household",
    "DROP TRIGGER IF EXISTS registry_household_search_village ON registry_household",
    "DROP TRIGGER IF EXISTS registry_person_search_village ON registry_person",
    "DROP FUNCTION IF EXISTS fangpin_household_search_village()",
    "DROP FUNCTION IF EXISTS fangpin_person_search_village()",
    "DROP FUNCTION IF EXISTS fangpin_village_bigrams(text, text)",
    "ALTER TABLE registry_person DROP COLUMN IF EXISTS search_village",
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
    dependencies = [("registry", "0016_export_job")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
