"""The household's village and 户编号 on its flags row, for the household list's 低于监测线 / 有逻辑校验问题
filters of one village (``monitoring.household_search``): partial indexes on (village, 户编号, household)
WHERE below_line / WHERE findings > 0 give a village's flagged households in the list's order, instead of
every flagged household of the county probed against its household.

Real model fields (``HouseholdFlags.village`` / ``household_no``: portable, in the ORM's queries), kept by
the database on PostgreSQL and SQLite alike — not by the Python writers, so no path can miss them:

- every insert of a flags row, and every update that writes ``household_id``, ``village`` or ``household_no``,
  takes them from the household (a direct write of the columns is recomputed);
- every change of a household's ``village_id`` or ``household_no`` rewrites its flags row: moves through the
  services, bulk ``update()``, raw SQL alike.

SQLite drops a table's triggers when Django remakes the table (some later ``AlterField``s on SQLite): a later
migration that remakes ``registry_household`` or ``registry_householdflags`` must create them again
(``monitoring.tests.test_flag_lists_village`` fails otherwise).
"""

from django.db import migrations, models

FILL = [
    """UPDATE registry_householdflags SET
         village = coalesce((SELECT h.village_id FROM registry_household h
                             WHERE h.id = registry_householdflags.household_id), ''),
         household_no = coalesce((SELECT h.household_no FROM registry_household h
                                  WHERE h.id = registry_householdflags.household_id), '')""",
]

PG_FORWARD = [
    """CREATE OR REPLACE FUNCTION fangpin_flags_household_keys() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         SELECT village_id, household_no INTO NEW.village, NEW.household_no
           FROM registry_household WHERE id = NEW.household_id;
         NEW.village := coalesce(NEW.village, '');
         NEW.household_no := coalesce(NEW.household_no, '');
         RETURN NEW;
       END $$""",
    """CREATE OR REPLACE FUNCTION fangpin_household_flags_keys() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE registry_householdflags SET village = NEW.village_id, household_no = NEW.household_no
          WHERE household_id = NEW.id
            AND (village IS DISTINCT FROM NEW.village_id OR household_no IS DISTINCT FROM NEW.household_no);
         RETURN NULL;
       END $$""",
    "DROP TRIGGER IF EXISTS registry_householdflags_keys ON registry_householdflags",
    """CREATE TRIGGER registry_householdflags_keys
       BEFORE INSERT OR UPDATE OF household_id, village, household_no ON registry_householdflags
       FOR EACH ROW EXECUTE FUNCTION fangpin_flags_household_keys()""",
    "DROP TRIGGER IF EXISTS registry_household_flags_keys ON registry_household",
    """CREATE TRIGGER registry_household_flags_keys
       AFTER UPDATE OF village_id, household_no ON registry_household
       FOR EACH ROW WHEN (OLD.village_id IS DISTINCT FROM NEW.village_id
                          OR OLD.household_no IS DISTINCT FROM NEW.household_no)
       EXECUTE FUNCTION fangpin_household_flags_keys()""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS registry_household_flags_keys ON registry_household",
    "DROP TRIGGER IF EXISTS registry_householdflags_keys ON registry_householdflags",
    "DROP FUNCTION IF EXISTS fangpin_household_flags_keys()",
    "DROP FUNCTION IF EXISTS fangpin_flags_household_keys()",
]

_SQLITE_KEYS = """UPDATE registry_householdflags SET
         village = coalesce((SELECT village_id FROM registry_household WHERE id = NEW.household_id), ''),
         household_no = coalesce((SELECT household_no FROM registry_household WHERE id = NEW.household_id), '')
       WHERE household_id = NEW.household_id;"""
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS registry_householdflags_keys_insert",
    f"""CREATE TRIGGER registry_householdflags_keys_insert AFTER INSERT ON registry_householdflags
       FOR EACH ROW BEGIN {_SQLITE_KEYS} END""",
    "DROP TRIGGER IF EXISTS registry_householdflags_keys_update",
    f"""CREATE TRIGGER registry_householdflags_keys_update
       AFTER UPDATE OF household_id, village, household_no ON registry_householdflags
       FOR EACH ROW BEGIN {_SQLITE_KEYS} END""",
    "DROP TRIGGER IF EXISTS registry_household_flags_keys",
    """CREATE TRIGGER registry_household_flags_keys AFTER UPDATE OF village_id, household_no ON registry_household
       FOR EACH ROW WHEN OLD.village_id IS NOT NEW.village_id OR OLD.household_no IS NOT NEW.household_no
       BEGIN
         UPDATE registry_householdflags SET village = NEW.village_id, household_no = NEW.household_no
          WHERE household_id = NEW.id;
       END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS registry_household_flags_keys",
    "DROP TRIGGER IF EXISTS registry_householdflags_keys_update",
    "DROP TRIGGER IF EXISTS registry_householdflags_keys_insert",
]


def _run(by_vendor):
    def run(apps, schema_editor):
        statements = by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"registry 0018: no flags triggers for {schema_editor.connection.vendor}")
        with schema_editor.connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0017_person_village_name_search_postgresql"),
    ]

    operations = [
        migrations.AddField(
            model_name="householdflags",
            name="household_no",
            field=models.CharField(blank=True, db_default="", max_length=32, verbose_name="户编号"),
        ),
        migrations.AddField(
            model_name="householdflags",
            name="village",
            field=models.CharField(blank=True, db_default="", max_length=12, verbose_name="所属行政村"),
        ),
        migrations.RunPython(
            _run({"postgresql": FILL + PG_FORWARD, "sqlite": FILL + SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        migrations.AddIndex(
            model_name="householdflags",
            index=models.Index(
                condition=models.Q(("below_line", True)),
                fields=["village", "household_no", "household"],
                name="hhflags_village_below",
            ),
        ),
        migrations.AddIndex(
            model_name="householdflags",
            index=models.Index(
                condition=models.Q(("findings__gt", 0)),
                fields=["village", "household_no", "household"],
                name="hhflags_village_findings",
            ),
        ),
    ]
