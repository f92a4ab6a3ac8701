"""The household list of the browser and of its export: registry search plus monitoring filters.

Search-first: one box matches 户编号 and any current member's name (any part, at least two characters),
and the household phone and any current member's ID number or phone in full or by their last four
characters (尾号): those are encrypted at rest and found through their blind indexes
(``registry.selectors.identifier_q``). Filters combine with it; every read starts from the region-scoped
household selector, and a helper (帮扶责任人) is limited further to the households assigned to them."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Func, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from fangpin.accounts.roles import Role
from fangpin.accounts.scope import assigned_only
from fangpin.accounts.throttle import search_gate
from fangpin.core.errors import DomainError
from fangpin.regions.models import code_prefix
from fangpin.registry import selectors as registry
from fangpin.registry.flags import household_flags_prepare, household_flags_refresh
from fangpin.registry.models import Household, HouseholdFlags, Person

from .list_rows import household_row_values
from .models import Assignment, AssignmentKind, MonitoringObject, ObjectStatus

E_QUERY_SHORT = "search_query_short"
MIN_QUERY = 2
SORTS = {
    "household_no": ("household_no",),
    "-household_no": ("-household_no",),
    "village": ("village_id", "household_no"),
    "members": ("-n_members", "household_no"),
    "type": ("household_type", "household_no"),
}


@dataclass
class HouseholdFilter:
    q: str = ""
    region: str = ""  # a region code (county, township or village) inside the actor's scope
    household_type: str = ""  # 脱贫户 / 一般农户
    monitoring: str = ""  # active / eliminated / never
    category: str = ""
    risk_type: str = ""
    below_line: bool = False
    has_findings: bool = False
    overdue: bool = False
    sort: str = "household_no"

    @classmethod
    def from_params(cls, params) -> HouseholdFilter:
        """From a QueryDict or dict of strings (the list URL, a saved working list)."""
        kw = {}
        for f in fields(cls):
            raw = params.get(f.name, "")
            kw[f.name] = raw in ("1", "on", "true", True) if f.type in ("bool", bool) else (raw or "").strip()
        if kw["sort"] not in SORTS:
            kw["sort"] = "household_no"
        return cls(**kw)

    def as_params(self) -> dict[str, str]:
        out = {}
        for k, v in asdict(self).items():
            if isinstance(v, bool):
                if v:
                    out[k] = "1"
            elif v and not (k == "sort" and v == "household_no"):
                out[k] = v
        return out

    @property
    def active(self) -> bool:
        return bool({k for k in self.as_params() if k != "sort"})

    @property
    def filtered(self) -> bool:
        """A filter beyond the search words is set (the list's 筛选 panel opens for these only: a search alone
        keeps the results on a phone's first screen)."""
        return bool({k for k in self.as_params() if k not in ("sort", "q")})


def helper_household_ids(*, actor, on: dt.date) -> QuerySet:
    """The households currently assigned to this helper."""
    return (
        Assignment.objects.filter(user=actor, kind=AssignmentKind.HELPER, start_on__lte=on)
        .filter(Q(end_on__isnull=True) | Q(end_on__gt=on))
        .values("household_id")
    )


def visible_households(*, actor, on: dt.date) -> QuerySet[Household]:
    """Scoped households; for a helper only the assigned ones."""
    qs = registry.household_list(actor=actor)
    if actor.role == Role.HELPER:
        qs = qs.filter(pk__in=helper_household_ids(actor=actor, on=on))
    return qs


class Bigrams(Func):
    """``fangpin_bigrams(text)`` (registry migration 0008, PostgreSQL): the two-character pieces of a text."""

    function = "fangpin_bigrams"

    @property
    def output_field(self):
        from django.contrib.postgres.fields import ArrayField
        from django.db.models import TextField

        return ArrayField(TextField())


def bigrams(text: str) -> list[str]:
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def name_matches(q: str) -> QuerySet[Person]:
    """Current members whose name contains ``q`` (two characters or more). On PostgreSQL the bigram GIN
    index narrows the candidates (every bigram of q is one of the name's), then LIKE decides."""
    people = Person.objects.filter(is_member=True, name__contains=q)
    if connection.vendor == "postgresql" and len(q) >= 2:
        people = people.alias(_grams=Bigrams("name")).filter(_grams__contains=bigrams(q))
    return people


def name_match_households(q: str, *, village: str = "") -> QuerySet | RawSQL:
    """The ids of the households with a current member whose name contains ``q``, for ``pk__in``. Searching
    one village (``village``: a 12-digit code the caller limits the households to anyway) on PostgreSQL, the
    village's own bigram keys (registry migration 0017: the GIN posting list of a term in one village holds
    the village's matches only, not the county's); otherwise ``name_matches``."""
    if connection.vendor == "postgresql" and len(village) == 12 and len(q) >= 2:
        return RawSQL(
            "SELECT household_id FROM registry_person WHERE is_member AND name LIKE %s "  # noqa: S611
            "AND fangpin_village_bigrams(search_village, name) @> %s::text[]",
            [f"%{connection.ops.prep_for_like_query(q)}%", [village + g for g in bigrams(q)]],
        )
    return name_matches(q).values("household_id")


def _searched_village(actor, f: HouseholdFilter) -> str:
    """The one village the search is limited to (the region filter's or the actor's scope), else ""."""
    prefixes = [code_prefix(f.region) if f.region else "", getattr(actor, "scope_prefix", None) or ""]
    return next((p for p in prefixes if len(p) == 12), "")


def _scope_village(actor) -> str:
    """The village whose households are exactly ``visible_households(actor)`` (a village actor's scope; not a
    helper's, who sees their assigned households only), else ""."""
    prefix = getattr(actor, "scope_prefix", None) or ""
    return prefix if len(prefix) == 12 and not assigned_only(actor) else ""


def flag_list_village(actor, f: HouseholdFilter) -> str:
    """The one village a 低于监测线 / 有逻辑校验问题 list is limited to (the region filter's or the actor's
    scope, 12 digits), read from the flags rows' own village and 户编号 (``HouseholdFlags.village`` /
    ``household_no``, kept by the database: registry migration 0018); "" for a wider list or no flag filter
    (the county-wide partial indexes then, as before)."""
    return _searched_village(actor, f) if (f.below_line or f.has_findings) else ""


def household_search_qs(*, actor, f: HouseholdFilter, on: dt.date, gate: bool = True) -> QuerySet[Household]:
    """The filtered households (no row annotations: cheap to count and to export; see ``household_rows``).
    The 低于监测线 / 有逻辑校验问题 filters read flags brought up to date first, every row of them
    (exports, the API, saved lists: exactly what is filtered). ``gate=False`` skips the search throttle only:
    for an export job re-running a search its request already passed through the gate (scope still applies,
    as the job's requester)."""
    return household_search(actor=actor, f=f, on=on, gate=gate)[0]


def household_search(
    *, actor, f: HouseholdFilter, on: dt.date, defer_flags: bool = False, gate: bool = True
) -> tuple[QuerySet[Household], int]:
    """``household_search_qs`` and how many of the area's households are being updated: with
    ``defer_flags`` (the browser's list, which shows the number) today's dirty flags are left to the
    background refresh while it is expected (``registry.flags.household_flags_prepare``) instead of being
    recomputed on the request; the count is 0 otherwise."""
    base = visible_households(actor=actor, on=on)
    updating = 0
    qs = base
    if f.q:
        q = f.q
        if len(q) < MIN_QUERY:
            raise DomainError(E_QUERY_SHORT, f"请至少输入{MIN_QUERY}个字", field="q")
        if gate:
            search_gate(actor, q, on=on)  # per-user rate and daily look-up budget (accounts.throttle)
        # one set of matching households per branch, each answered by its own index on PostgreSQL
        # (``IN (subquery)`` is evaluated once; an EXISTS under OR would run once per household)
        match = Q(pk__in=name_match_households(q, village=_searched_village(actor, f)))
        if q.isascii():  # 户编号, ID numbers and phones are ASCII: a Chinese text cannot be one of them
            # ID numbers and phones are encrypted: found in full or by the last four through their blind indexes
            people = Person.objects.filter(is_member=True).filter(registry.identifier_q(q))
            match |= (
                Q(household_no__contains=q)
                | registry.household_phone_q(q)
                | Q(pk__in=people.values("household_id"))
            )
        qs = qs.filter(match)
    if f.region:
        prefix = code_prefix(f.region)
        qs = (
            qs.filter(village_id=prefix) if len(prefix) == 12 else qs.filter(village__code__startswith=prefix)
        )
    if f.household_type:
        qs = qs.filter(household_type=f.household_type)
    active = MonitoringObject.objects.filter(household=OuterRef("pk"), status=ObjectStatus.ACTIVE)
    if f.monitoring == "active":
        qs = qs.filter(Exists(active))
    elif f.monitoring == "eliminated":
        qs = qs.filter(
            Exists(MonitoringObject.objects.filter(household=OuterRef("pk"), status=ObjectStatus.ELIMINATED))
        ).exclude(Exists(active))
    elif f.monitoring == "never":
        qs = qs.exclude(
            Exists(
                MonitoringObject.objects.filter(household=OuterRef("pk")).exclude(status=ObjectStatus.REVOKED)
            )
        )
    if f.category:
        qs = qs.filter(Exists(active.filter(category=f.category)))
    if f.risk_type:
        # JSON containment differs by database (SQLite stores escaped text): match in Python over the
        # active objects of the visible households (a small set: monitoring objects are a few percent)
        pairs = MonitoringObject.objects.filter(status=ObjectStatus.ACTIVE, household__in=base).values_list(
            "household_id", "risk_types"
        )
        qs = qs.filter(pk__in=[hid for hid, risks in pairs if f.risk_type in (risks or [])])
    if f.below_line or f.has_findings:  # maintained flags (registry.flags), stale rows first
        whole = _scope_village(actor)  # base is that village's households: its flags read by their village
        if defer_flags:
            updating = household_flags_prepare(base, on=on, village=whole)
        else:
            household_flags_refresh(base, on=on, village=whole)
    flagged = {}
    if f.below_line:
        flagged["flags__below_line"] = True
    if f.has_findings:
        flagged["flags__findings__gt"] = 0
    if flagged and (village := flag_list_village(actor, f)):
        # the village kept on the flags row (registry migration 0018): its partial indexes give the
        # village's flagged rows, not every flagged household of the county probed against its household
        flagged["flags__village"] = village
    if flagged:
        qs = qs.filter(**flagged)
    if f.overdue:
        from .selectors import overdue_items

        qs = qs.filter(pk__in={o.household_id for o in overdue_items(actor=actor, on=on)})
    return qs, updating


def row_annotations() -> dict:
    """A list row's computed columns, per household: ``n_members`` (current members) and
    ``mo_status``/``mo_category`` of the latest monitoring object not revoked — correlated subqueries,
    evaluated for the page's rows only (not a GROUP BY over the whole area). Shared by the model rows here
    and the page's dict rows (``list_rows``)."""
    latest = MonitoringObject.objects.filter(household=OuterRef("pk")).exclude(status=ObjectStatus.REVOKED)
    latest = latest.order_by("-identified_on", "-id")
    return {
        "n_members": Subquery(
            Person.objects.filter(household=OuterRef("pk"), is_member=True)
            .order_by()
            .values("household")
            .annotate(c=Count("id"))
            .values("c")[:1]
        ),
        "mo_status": Subquery(latest.values("status")[:1]),
        "mo_category": Subquery(latest.values("category")[:1]),
    }


def household_rows(qs: QuerySet[Household], *, sort: str = "household_no") -> QuerySet[Household]:
    """The list's rows: ``heads`` (the current 户主), ``n_members``, ``mo_status``/``mo_category`` of the
    latest monitoring object, sorted — without one query per row."""
    return (
        qs.select_related("village")
        .annotate(**row_annotations())
        .prefetch_related(
            Prefetch(
                "persons",
                queryset=Person.objects.filter(is_member=True, relation="户主").only(
                    "id", "household_id", "name", "phone"
                ),
                to_attr="heads",
            )
        )
        .order_by(*SORTS.get(sort, SORTS["household_no"]))
    )


# A list counts its households exactly up to this many and says "超过 N 户" beyond (a COUNT over a county's
# 400,000 households with a search or filter costs seconds; nobody pages through 10,000 households).
COUNT_CAP = 10_000


def bounded_count(qs: QuerySet[Household], *, cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): the exact count when it is at most ``cap``, else (``cap``, True) — counted by a
    ``COUNT(*)`` over ``LIMIT cap + 1`` rows, so the cost is bounded by the cap, not by the area."""
    cap = COUNT_CAP if cap is None else cap
    n = qs.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


# within one village the flags rows' own 户编号 gives the same order as the household's (it is the household's:
# registry migration 0018, 户编号 is unique), and the village's partial flags index serves it
FLAG_SORTS = {
    "household_no": ("flags__household_no",),
    "-household_no": ("-flags__household_no",),
    "village": ("flags__household_no",),  # one village: its 户编号 order
}


def flag_list_count(actor, f: HouseholdFilter, *, cap: int | None = None) -> tuple[int, bool] | None:
    """``bounded_count`` of a village actor's plain 低于监测线 / 有逻辑校验问题 list (no search, no other filter;
    not a helper's) read from the village's partial flags index alone, without a probe of each flagged
    household: the same number — every flags row has its household (a foreign key) and carries its village
    (kept by the database, registry migration 0018). None for any other list (``bounded_count`` then).
    Call it after ``household_search`` (which brings the flags up to date)."""
    village = _scope_village(actor)
    plain = HouseholdFilter(
        below_line=f.below_line, has_findings=f.has_findings, region=f.region, sort=f.sort
    )
    if not village or not (f.below_line or f.has_findings) or f != plain:
        return None  # any other filter (one added later too) is answered by the households' query
    if f.region and code_prefix(f.region) != village:
        return None
    rows = HouseholdFlags.objects.filter(village=village)
    if f.below_line:
        rows = rows.filter(below_line=True)
    if f.has_findings:
        rows = rows.filter(findings__gt=0)
    cap = COUNT_CAP if cap is None else cap
    n = rows.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def household_page_rows(
    qs: QuerySet[Household],
    *,
    sort: str,
    offset: int,
    limit: int,
    values: bool = False,
    flags_village: str = "",
) -> list[Household] | list[dict[str, Any]]:
    """One page of ``household_rows`` in two steps: the page's ids (sorted, offset, limit — on the bare
    filtered households, index order), then the rows with their annotations and heads for those ids only.
    A deep page no longer evaluates the per-row subqueries for every row it skips. With ``values`` the rows
    are ``list_rows.household_row_values`` (the list's columns as dicts, one statement, no model instances).
    ``flags_village``: ``qs`` is a flag list of that one village (``flag_list_village``): the 户编号 sorts read
    the flags rows' 户编号, in the order of the village's partial flags index."""
    order = SORTS.get(sort, SORTS["household_no"])
    if flags_village and sort in FLAG_SORTS:
        order = FLAG_SORTS[sort]
    ids_qs = qs
    if sort == "members":  # the only sort on an annotation
        ids_qs = ids_qs.annotate(
            n_members=Subquery(
                Person.objects.filter(household=OuterRef("pk"), is_member=True)
                .order_by()
                .values("household")
                .annotate(c=Count("id"))
                .values("c")[:1]
            )
        )
    ids = list(ids_qs.order_by(*order).values_list("pk", flat=True)[offset : offset + limit])
    if not ids:
        return []
    if values:
        return household_row_values(ids)
    found = {h.pk: h for h in household_rows(Household.objects.filter(pk__in=ids), sort=sort)}
    return [found[i] for i in ids if i in found]


def search_may_refuse(q: str | None) -> bool:
    """Whether an empty result for ``q`` can be a refused look-up (``search_refusal_record``): only a text as
    long as a 户编号 or an ID number (a caller need not ask whether a two-character name search was empty)."""
    return len((q or "").strip()) >= 6


def search_refusal_record(*, actor, q: str, on: dt.date) -> bool:
    """When a search finds nothing the actor may see but the text is exactly the 户编号 or ID number of a
    household outside their area, the attempt is audited as refused (the user sees only "no result")."""
    from fangpin.audit.record import audit_record

    if not search_may_refuse(q):
        return False
    q = q.strip()
    hit = Household.objects.filter(Q(household_no=q) | Q(persons__id_number=q.upper())).values(
        "id", "village_id"
    )
    hit = hit.first()
    if hit is None or visible_households(actor=actor, on=on).filter(pk=hit["id"]).exists():
        return False
    audit_record(
        actor=actor,
        event_type="registry.search_refused",
        object_type="registry.household",
        object_id=hit["id"],
        region_code=getattr(actor, "region_id", "") or "",
        household_id=hit["id"],
        result="refused",
        reason="检索管辖范围外的户",
        data={"query_kind": "household_no" if q.isdigit() and len(q) != 18 else "id_number"},
    )
    return True
