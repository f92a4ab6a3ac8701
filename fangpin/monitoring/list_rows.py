"""The rows of one page of the household list (the browser's and the API's), as plain dicts.

A page shows a few columns of each household; building model instances for them (every column of the
household and its village, a prefetch for the 户主) and compiling the ORM query with its five correlated
subqueries was most of a page's Python (issues #16/#17). Here one statement reads exactly the columns shown,
and its SQL is compiled once per process and page length: the ORM query is built with placeholder ids that
no household has, and each page's ids are put in their parameter slots. The statement reads the page's
households by primary key only — which households those are (scope, search, filters, order) was decided
before, by ``household_search.household_page_rows``; nothing here is cached but the text of the SQL."""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from fangpin.registry.models import Household, Person

# (database alias, vendor, number of ids) -> (sql, params with None in the ids' slots, the ids' slots)
_COMPILED: dict[tuple[str, str, int], tuple[str, list[Any], list[int]]] = {}
_ENCRYPTED = (
    "phone",
    "contact_phone",
)  # decrypted as Household.phone (a person's phone has the same purpose)


def household_row_values_qs(ids: list[int]) -> QuerySet[Household]:
    """The ORM query of ``household_row_values`` (what its SQL is compiled from)."""
    from .household_search import row_annotations  # (household_search imports this module)

    heads = Person.objects.filter(household=OuterRef("pk"), is_member=True, relation="户主").order_by("id")
    return Household.objects.filter(pk__in=ids).values(
        "id",
        "household_no",
        "village_id",
        "household_type",
        "status",
        "phone",
        village_name=F("village__name"),
        contact_phone=Coalesce(
            NullIf("phone", Value("")),
            Subquery(heads.values("phone")[:1]),
            output_field=Household._meta.get_field("phone"),
        ),
        **row_annotations(),
        head_name=Subquery(heads.values("name")[:1]),
    )


def _compiled(alias: str, n: int) -> tuple[str, list[Any], list[int]]:
    conn = connections[alias]
    key = (alias, conn.vendor, n)
    plan = _COMPILED.get(key)
    if plan is None:
        placeholders = list(range(-n, 0))  # no household has a negative id
        sql, params = household_row_values_qs(placeholders).query.get_compiler(alias).as_sql()
        params = list(params)
        slots = [i for i, p in enumerate(params) if type(p) is int and p < 0]
        if sorted(params[i] for i in slots) != placeholders:  # the ORM changed how it binds an IN list
            raise RuntimeError("household_row_values: the ids' parameter slots were not found")
        order = {p: k for k, p in enumerate(placeholders)}
        slots.sort(key=lambda i: order[params[i]])  # slot of the k-th id
        for i in slots:
            params[i] = None
        plan = _COMPILED[key] = (sql, params, slots)
    return plan


def household_row_values(ids: list[int], *, using: str = "default") -> list[dict[str, Any]]:
    """The page's rows, in the order of ``ids`` (ids no longer there are left out), as dicts of what the
    browser's list and the API show: ``id``, ``household_no``, ``village_id``, ``village_name``,
    ``household_type``, ``status``, ``phone`` (the household's), ``contact_phone`` (the household's, else the
    户主's: the list's 联系电话), ``n_members`` (current members; None for none, as ``household_rows``),
    ``mo_status``/``mo_category`` (the latest monitoring object not revoked) and ``head_name`` (the current
    户主, the first by id; None without one). The phones are decrypted, not masked: the caller masks them."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    sql, params, slots = _compiled(using, len(ids))
    params = list(params)
    for i, hid in zip(slots, ids, strict=True):
        params[i] = int(hid)
    conn = connections[using]
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [c[0] for c in cur.description]
        fetched = cur.fetchall()
    field = Household._meta.get_field("phone")
    plain: dict[str, str | None] = {}  # a token decrypted once (contact_phone is mostly phone itself)
    found = {}
    for raw in fetched:
        r = dict(zip(names, raw, strict=True))
        for k in _ENCRYPTED:
            token = r[k]
            if token not in plain:
                plain[token] = field.from_db_value(token, None, conn)
            r[k] = plain[token]
        found[r["id"]] = r
    return [found[i] for i in ids if i in found]
