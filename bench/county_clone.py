"""Bench helper: grow a generated demo county on PostgreSQL to N times its size, fast (not a product path).

    python bench/county_clone.py --copies 9 [--database-url postgres://…/fangpin_load]

``demo_county`` writes ~200 persons/s on this 2-core box (ORM + history rows + enrolment through the
services), i.e. ~1.5 h for a million persons. The load bench needs the *size* more than a million distinct
draws, so it generates a tenth of the county with the real generator and services, then adds ``copies``
copies of every registry household in SQL (``INSERT … SELECT``): households, persons, income records,
member changes, living conditions, their history rows, and the monitoring objects with their measures. Each
copy gets new ids, its own 户编号 (same village, numbers after the village's last one), 人编号 and a new valid
unique ID number (``core.ids.make_id_number``, next free sequence for the birth date and gender); persons
without an ID number stay without. ID numbers are encrypted at rest (``core.crypto``): the new numbers are
encrypted (SM4-GCM) and their blind indexes (full and 尾号) computed in Python with the installation's keys —
the settings' ``FANGPIN_DATA_KEYS`` / ``FANGPIN_INDEX_KEY``, so run it with the keys the server uses (bench/load.py
does) — and COPYed into a temporary table the ``INSERT … SELECT`` joins; phones and other sealed values are
copied as they are (the same plaintext, still valid tokens). Leads, cases, visits and audit events are not copied.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (table, its id offset key, columns rewritten) — order matters for foreign keys
TABLES = [
    ("registry_household", "household"),
    ("registry_historicalhousehold", "household"),
    ("registry_person", "person"),
    ("registry_historicalperson", "person"),
    ("registry_incomerecord", "incomerecord"),
    ("registry_historicalincomerecord", "incomerecord"),
    ("registry_memberchange", "memberchange"),
    ("registry_householdlivingconditions", "householdlivingconditions"),
    ("registry_historicalhouseholdlivingconditions", "householdlivingconditions"),
    ("monitoring_monitoringobject", "monitoringobject"),
    ("monitoring_measure", "measure"),
]
NULL = "\\N"
IDCOLS = ("id_number", "id_number_bidx", "id_number_tail", "id_number_canon")  # written from the idmap
FK = {
    "household_id": "household",
    "person_id": "person",
    "object_id": "monitoringobject",
    "monitoring_object_id": "monitoringobject",
}


def _span(cur, table: str, col: str = "id") -> int:
    """A round offset above every id of the table (so copy c's ids are old + c × span)."""
    n = cur.execute(f"select coalesce(max({col}), 0) from {table}").fetchone()[0]
    span = 10
    while span <= n:
        span *= 10
    return span


def clone(url: str, copies: int, *, conn=None) -> dict[str, int]:  # noqa: ANN001
    """Copy every registry household ``copies`` times; returns rows added per table. ``conn``: an open
    psycopg connection to use inside its transaction (not committed here: a test's), else ``url``'s."""
    if conn is not None:
        with conn.cursor() as cur:
            return _clone(conn, cur, copies, commit=False)
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as own, own.cursor() as cur:
        return _clone(own, cur, copies, commit=True)


def _clone(conn, cur, copies: int, *, commit: bool) -> dict[str, int]:  # noqa: ANN001
    from fangpin.core import crypto
    from fangpin.core.ids import make_id_number

    t0 = time.monotonic()
    out: dict[str, int] = {}
    cols = defaultdict(list)
    for table, col in cur.execute(
        "select table_name, column_name from information_schema.columns where table_schema='public' "
        "order by table_name, ordinal_position"
    ):
        cols[table].append(col)
    base_tables = {key: f"{t}" for t, key in TABLES if "historical" not in t}
    span = {key: _span(cur, base_tables[key]) for key in base_tables}
    hist_span = {t: _span(cur, t, "history_id") for t, _ in TABLES if "historical" in t}
    top = max(span.values())
    if any(s * (copies + 1) > 2**62 for s in span.values()):
        sys.exit("ids would overflow")
    # 户编号: village code + a 4-digit (or longer) number; copies continue after the village's largest
    step = cur.execute(
        "select coalesce(max(substr(household_no, 13)::int), 0) from registry_household "
        "where household_no ~ '^[0-9]{13,}$'"
    ).fetchone()[0]
    width = max(4, len(str(step * (copies + 1))))
    # new ID numbers: the next free sequence per (birth date, gender) for the county's area code
    used: dict[tuple, set[int]] = defaultdict(set)
    people = [
        (pid, crypto.decrypt(tok, "id_number") if tok else tok, birth, gender)
        for pid, tok, birth, gender in cur.execute(
            "select id, id_number, birth_date, gender from registry_person where id_number is not null"
        ).fetchall()
    ]
    for _, num, _, _ in people:
        if num and len(num) == 18 and num[:-1].isdigit():
            used[(num[:6], num[6:14])].add(int(num[14:17]))
    rows: list[tuple[int, int, str | None]] = []
    for c in range(1, copies + 1):
        for pid, num, birth, gender in people:
            if birth is None or not num or len(num) != 18:
                new = None  # an odd or missing number: the copy has none (NULL, not a duplicate)
            else:
                area = num[:6] if num[:6].isdigit() else "410506"
                day = f"{birth:%Y%m%d}"
                taken = used[(area, day)]
                order = 1 if gender == "M" else 0
                while order in taken:
                    order += 2
                if order > 999:
                    area = str(int(area) + 1)[:6]  # a neighbouring area code when a day is full
                    taken = used[(area, day)]
                    order = 1 if gender == "M" else 0
                    while order in taken:
                        order += 2
                taken.add(order)
                new = make_id_number(area, birth, order // 2, gender)
            rows.append((pid, c, new))
    # encrypted at rest: token + exact blind index + 尾号 index, as the model field would write them
    tokens = crypto.encrypt_many([new for _, _, new in rows], "id_number")
    buf = io.StringIO()
    for (pid, c, new), tok in zip(rows, tokens, strict=True):
        if new:
            bidx, tail = crypto.blind_index(new, "id_number"), crypto.tail_index(new, "id_number")
            # a new number is canonical (18 digits): its canonical index is its full index
            buf.write(f"{pid}\t{c}\t{tok}\t{bidx}\t{tail or NULL}\t{bidx}\n")
        else:
            buf.write(f"{pid}\t{c}\t{NULL}\t{NULL}\t{NULL}\t{NULL}\n")
    cur.execute(
        "create temp table idmap (person_id bigint, c int, id_number varchar(128), "
        "id_number_bidx varchar(32), id_number_tail varchar(16), id_number_canon varchar(32))"
    )
    with cur.copy("copy idmap from stdin") as cp:
        cp.write(buf.getvalue())
    cur.execute("create index on idmap (person_id, c)")
    print(f"ID numbers for {len(people) * copies:,} copied persons in {time.monotonic() - t0:.0f} s")
    # the copies reference rows copied with the same offsets: skip the per-row foreign-key triggers
    # (checked at COMMIT otherwise: minutes for millions of rows on this box); superuser only
    cur.execute("set session_replication_role = replica")
    cur.execute("create temp table copies (c int)")
    cur.execute("insert into copies select generate_series(1, %s)", [copies])
    for table, key in TABLES:
        if table not in cols:
            continue
        hist = "historical" in table
        exprs = []
        for col in cols[table]:
            if col == "id":
                exprs.append(f"t.id + copies.c * {span[key]}")
            elif col == "history_id":
                exprs.append(f"t.history_id + copies.c * {hist_span[table]}")
            elif col in FK and FK[col] in span and not (col == "object_id" and key != "measure"):
                exprs.append(f"t.{col} + copies.c * {span[FK[col]]}")
            elif col == "household_no":
                exprs.append(
                    f"case when t.household_no ~ '^[0-9]{{13,}}$' then substr(t.household_no, 1, 12) || "
                    f"lpad((substr(t.household_no, 13)::int + copies.c * {step})::text, {width}, '0') "
                    "else t.household_no || '-' || copies.c end"
                )
            elif col == "person_no" and table.endswith("person"):
                exprs.append(
                    f"case when t.person_no ~ '^[0-9]{{15,}}$' then substr(t.person_no, 1, 12) || "
                    f"lpad((substr(t.person_no, 13, length(t.person_no) - 14)::int + copies.c * {step})"
                    f"::text, {width}, '0') || right(t.person_no, 2) else t.person_no end"
                )
            elif col in IDCOLS and table.endswith("person"):
                exprs.append(f"m.{col}")
            else:
                exprs.append(f"t.{col}")
        join = (
            "left join idmap m on m.person_id = t.id and m.c = copies.c" if table.endswith("person") else ""
        )
        t1 = time.monotonic()
        cur.execute(
            f"insert into {table} ({', '.join(cols[table])}) "
            f"select {', '.join(exprs)} from {table} t cross join copies {join} "
            f"where t.id < {span[key]}" + (f" and t.history_id < {hist_span[table]}" if hist else "")
        )
        out[table] = cur.rowcount
        print(f"{table}: +{cur.rowcount:,} rows in {time.monotonic() - t1:.0f} s", flush=True)
    for table, _key in TABLES:
        if table in cols:
            idcol = "history_id" if "historical" in table else "id"
            cur.execute(
                f"select setval(pg_get_serial_sequence('{table}', '{idcol}'), "
                f"(select max({idcol}) from {table}))"
            )
    cur.execute("set session_replication_role = default")
    _reseal_copies(cur, span)
    cur.execute("drop table idmap")
    cur.execute("drop table copies")
    if commit:
        conn.commit()
        cur.execute("analyze")
    print(f"cloned ×{copies} in {time.monotonic() - t0:.0f} s (id span up to {top:,})")
    return out


def _reseal_copies(cur, span: dict[str, int]) -> None:  # noqa: ANN001
    """The copies of decision records (monitoring objects, measures, income records) carry their original's
    integrity seal, which binds the original's id: seal them anew (``core.integrity.seal_for``, the
    installation's keys), so ``fangpin integrity verify`` on the load county is clean."""
    from django.apps import apps

    from fangpin.core.integrity import IntegritySealed, seal_for

    by_table = {m._meta.db_table: m for m in apps.get_models() if issubclass(m, IntegritySealed)}
    for table, key in TABLES:
        model = by_table.get(table)
        if model is None:
            continue
        t0 = time.monotonic()
        fields = [model._meta.get_field(n) for n in model.SEAL_FIELDS]
        names = [f.column for f in fields]
        # Django's psycopg connection loads jsonb as text (its field parses it): parse it as the field would
        text_json = [f.get_internal_type() == "JSONField" for f in fields]
        cur.execute(f"select id, {', '.join(names)} from {table} where id >= %s", [span[key]])  # noqa: S608
        buf = io.StringIO()
        n = 0
        for pk, *vals in cur.fetchall():
            vals = [
                json.loads(v) if j and isinstance(v, str) else v for v, j in zip(vals, text_json, strict=True)
            ]
            buf.write(f"{pk}\t{seal_for(model, pk, dict(zip(names, vals, strict=True)))}\n")
            n += 1
        cur.execute("create temp table seals (id bigint primary key, mac varchar(96))")
        with cur.copy("copy seals from stdin") as cp:
            cp.write(buf.getvalue())
        cur.execute(f"update {table} t set integrity_mac = s.mac from seals s where t.id = s.id")  # noqa: S608
        cur.execute("drop table seals")
        print(f"{table}: {n:,} copies sealed in {time.monotonic() - t0:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, required=True)
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/fangpin_load")
    a = ap.parse_args()
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")
    os.environ["DATABASE_URL"] = a.database_url
    import django

    django.setup()
    clone(a.database_url, a.copies)


if __name__ == "__main__":
    main()
