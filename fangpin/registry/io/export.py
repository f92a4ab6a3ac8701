"""Exporting the registry (or the monitoring list) in the national column names and spellings.

Person-level, household fields repeated; title on row 1, header on row 3 as the national system;
出生日期 YYYYMMDD, 识别监测时间 YYYYMM, 是/否, 致贫/返贫风险1-5. ID numbers and phones are masked unless
the caller asks for full values *and* holds ``Cap.EXPORT_UNMASKED``. Region scope applies (``scoped``).
Every export writes one ``registry.export`` audit event (rows, columns, masked or not, file SHA-256).

The monitoring columns come from the monitoring part: its selector
``fangpin.monitoring.selectors.monitoring_export_facts(household_ids) -> {household_id: {...}}``
(keys: category, identified_on, risk_types, eliminated, elimination_method, eliminated_on), registered
at start-up in ``registry.hooks``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import operator
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require, scoped
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.core.masking import mask_birth_date, mask_id_number, mask_phone
from fangpin.policy.params import param_value
from fangpin.policy.rules.guarantees import HouseholdFacts, MemberFacts, judge_guarantees
from fangpin.policy.rules.income import IncomeFacts, per_capita_net_income
from fangpin.regions.models import code_prefix
from fangpin.regions.selectors import region_path_names
from fangpin.registry import hooks
from fangpin.registry.models import Household, IncomeRecord, Person
from fangpin.registry.models.income import TRANSFER_FIELDS
from fangpin.registry.services.assessment import guarantee_params

from .columns import (
    COLUMNS,
    DERIVED,
    HH,
    HH_FACTS,
    INCOME,
    LOC,
    MON,
    PERSON,
    PERSON_FACTS,
    RISK_KEYS,
    ROW,
    Column,
    fmt_bool,
    fmt_date,
    fmt_gender,
    fmt_yyyymm,
)
from .validate import FIELD_OF
from .xlsx import joints, write_csv, write_xlsx

E_FORMAT = "export_format"
KIND_REGISTRY, KIND_MONITORING = "registry", "monitoring"
TITLES = {KIND_REGISTRY: "（自定义）监测对象信息", KIND_MONITORING: "（自定义）监测对象信息（监测对象）"}
_RELATION_ORDER = {"户主": 0, "配偶": 1}
CHUNK = 5000


@dataclass
class ExportResult:
    path: Path
    rows: int
    households: int
    masked: bool
    sha256: str
    columns: list[str]


def _monitoring_provider():
    """The monitoring part's export selector, registered at start-up (``registry.hooks``)."""
    return hooks.monitoring().export_facts


EXPORT_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.target != ROW)
_MODEL_OF = {HH: Household, PERSON: Person, INCOME: IncomeRecord}


def _places(col: Column) -> int:
    """Decimal places a number column is written with (money 0.00, as the national export writes it)."""
    model = _MODEL_OF.get(col.target)
    if model is None:
        return 2
    try:
        f = model._meta.get_field(FIELD_OF.get(col.key, col.key))
    except Exception:
        return 2
    return getattr(f, "decimal_places", None) or 0


PLACES = {c.key: _places(c) for c in EXPORT_COLUMNS if c.kind == "number"}


# The fields the export reads, fetched instead of every column of the three models (fewer values to convert
# and decrypt): each column's own (``_cell``), the 三保障/饮水 facts and the income parts of
# ``household_derived``, the members' order. Rows are read by key, so a field left out fails, never blanks a cell.
HH_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            "id",
            "village_id",
            "national_facts",
            *(c.key for c in EXPORT_COLUMNS if c.target == HH and c.key != "g_housing"),
            *("food_ok", "clothing_ok", "house_grade", "relocated_keys_received", "safe_drinking_water"),
            *("water_litres_per_day", "water_scarce_area", "water_quality_ok", "water_piped"),
            *("water_fetch_minutes", "water_horizontal_m", "water_vertical_m", "water_interruption_days"),
        ]
    )
)
PERSON_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            "id",
            "household_id",
            "relation",
            "national_facts",
            *("id_type", "id_number", "disability_cert_no"),
            *("public_welfare_job", "public_welfare_job_name", "public_welfare_job_months"),
            *(FIELD_OF.get(c.key, c.key) for c in EXPORT_COLUMNS if c.target == PERSON),
            *(c.extra["same_as"] for c in EXPORT_COLUMNS if c.target == DERIVED and "same_as" in c.extra),
            *("name", "birth_date", "school_status", "out_of_school", "out_of_school_reason"),
            *("medical_resident", "medical_employee"),
        ]
    )
)
INCOME_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            "household_id",
            "period_start",
            "period_end",
            *(
                c.key
                for c in EXPORT_COLUMNS
                if c.target == INCOME
                if c.key not in ("stated_per_capita", "transfer_total")
            ),  # both computed (``derived``)
            *TRANSFER_FIELDS,
            *("wage", "production_business", "property_income", "production_expense"),
            *("insurance_payout", "compliant_out_of_pocket"),
        ]
    )
)


def national_village_name(name: str) -> str:
    """The 村 cell as the national export writes it: 王家岗村民委员会 → 王家岗村, 东风社区居民委员会 → 东风社区."""
    for suffix, short in (
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居民委员会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
    ):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + short
    return name


def _region_names(codes: set[str]) -> dict[str, tuple[str, str, str]]:
    """village code → (县, 乡, 村) names, in the national export's spelling: the village, its parent and its
    grandparent of ``regions.selectors.region_path_names`` (the process's cache of the division tree, as the
    household file names its village)."""
    out = {}
    for code in codes:
        path = region_path_names(code)
        if not path:
            continue
        out[code] = (
            path[-3] if len(path) >= 3 else "",
            path[-2] if len(path) >= 2 else "",
            national_village_name(path[-1]),
        )
    return out


def _chunks(seq: list, n: int) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


_UNKNOWN = object()
_FEN = Decimal("0.01")
_NET_PLUS = ("wage", "production_business", "property_income")


def _fen(v: Decimal) -> int | None:
    """``v`` in fen, exactly, when it is a whole number of fen (a money column's value always is), else None."""
    n, d = v.as_integer_ratio()
    n *= 100
    return n // d if n % d == 0 else None


def _calendar_year_per_capita(
    income: dict, transfer: Decimal, *, members: int, include_payout: bool
) -> Decimal | object:
    """The 人均纯收入 ``per_capita_net_income`` gives for one calendar-year record over that year's window
    (the export's case: ``month`` = 1 January of the next year), in integer fen instead of ``Fraction``s:
    the window is the record's 12 months, so each component counts whole (× 12/12) and the exact value is
    net_fen / (100 · members); ``_q`` rounds it half away from zero, which for fen is
    ⌊(2·|net_fen| + members) / (2·members)⌋ with the sign of net. ``_UNKNOWN`` (the caller then asks the rule)
    when the record is not exactly one calendar year, there are no members, or an amount is not whole fen."""
    start, end = income["period_start"], income["period_end"]
    if members <= 0 or start.month != 1 or start.day != 1 or end != dt.date(start.year, 12, 31):
        return _UNKNOWN
    parts = [_fen(income[c]) for c in _NET_PLUS]
    parts.append(_fen(transfer))
    expense = _fen(income["production_expense"])
    payout = _fen(income["insurance_payout"]) if include_payout else 0
    if expense is None or payout is None or None in parts:
        return _UNKNOWN
    net = sum(parts) - expense + payout
    fen = (2 * abs(net) + members) // (2 * members)
    return Decimal(fen if net >= 0 else -fen).scaleb(-2).quantize(_FEN)  # as ``_q`` builds it


class _RowBuilder:
    def __init__(
        self, *, masked: bool, income_year: int | None, on: dt.date, monitoring: dict[int, dict]
    ) -> None:
        self.masked = masked
        self.income_year = income_year
        self.on = on
        self.monitoring = monitoring
        self._gparams: dict[str, Any] = {}
        self._payout: dict[str, bool] = {}

    def gparams(self, village: str):
        if village not in self._gparams:
            self._gparams[village] = guarantee_params(village, self.on.year)
        return self._gparams[village]

    def payout(self, village: str, year: int) -> bool:
        if (village, year) not in self._payout:
            self._payout[(village, year)] = bool(
                param_value("income.include_insurance_payout", region_code=village, year=year)
            )
        return self._payout[(village, year)]

    def household_derived(self, hh: dict, members: list[dict], income: dict | None) -> dict[str, Any]:
        facts = HouseholdFacts(
            members=tuple(
                MemberFacts(
                    name=m["name"],
                    birth_date=m["birth_date"],
                    school_status=m["school_status"],
                    out_of_school=m["out_of_school"],
                    out_of_school_reason=m["out_of_school_reason"],
                    medical_resident=m["medical_resident"],
                    medical_employee=m["medical_employee"],
                )
                for m in members
            ),
            food_ok=hh["food_ok"],
            clothing_ok=hh["clothing_ok"],
            house_grade=hh["house_grade"],
            relocated_keys_received=hh["relocated_keys_received"],
            water_litres_per_day=None
            if hh["water_litres_per_day"] is None
            else float(hh["water_litres_per_day"]),
            water_scarce_area=hh["water_scarce_area"],
            water_quality_ok=hh["water_quality_ok"],
            water_piped=hh["water_piped"],
            water_fetch_minutes=None
            if hh["water_fetch_minutes"] is None
            else float(hh["water_fetch_minutes"]),
            water_horizontal_m=None if hh["water_horizontal_m"] is None else float(hh["water_horizontal_m"]),
            water_vertical_m=None if hh["water_vertical_m"] is None else float(hh["water_vertical_m"]),
            water_interruption_days=hh["water_interruption_days"],
            safe_drinking_water=hh["safe_drinking_water"],
        )
        params = self.gparams(hh["village_id"])
        g = judge_guarantees(facts, params, on=self.on)
        out = {
            "g_education": fmt_bool(g.failed("education")),
            "g_medical": fmt_bool(g.failed("medical")),
            "g_housing": fmt_bool(hh["house_grade"] in params.unsafe_grades),
            "g_water": fmt_bool(not g.failed("water")),
            "per_capita": "",
        }
        if income is not None:
            transfer = sum((income[f] for f in TRANSFER_FIELDS), Decimal(0))
            payout = self.payout(hh["village_id"], income["period_end"].year)
            per = _calendar_year_per_capita(income, transfer, members=len(members), include_payout=payout)
            if per is _UNKNOWN:  # not a whole calendar year of whole fen: the rule itself
                res = per_capita_net_income(
                    [
                        IncomeFacts(
                            period_start=income["period_start"],
                            period_end=income["period_end"],
                            wage=income["wage"],
                            production_business=income["production_business"],
                            property_income=income["property_income"],
                            transfer=transfer,
                            production_expense=income["production_expense"],
                            insurance_payout=income["insurance_payout"],
                            compliant_out_of_pocket=income["compliant_out_of_pocket"],
                        )
                    ],
                    members=len(members),
                    month=dt.date(income["period_end"].year + 1, 1, 1),
                    include_insurance_payout=payout,
                )
                per = res.per_capita if res.months_covered else None
            out["per_capita"] = per
            out["transfer_total"] = transfer
        return out

    def row(self, hh: dict, p: dict, names: tuple[str, str, str], derived: dict, income: dict | None) -> list:
        """One person's row: a value per ``EXPORT_COLUMNS`` entry, formatted for the file (``_fmt``). The
        per-column choice (where the value comes from, masking, formatting) is made once per builder
        (``_cells``), not per cell: a searched list of 300 households is ~100,000 cells."""
        mon = self.monitoring.get(hh["id"], {})
        hh_facts = hh["national_facts"] or {}
        p_facts = p["national_facts"] or {}
        return [cell(hh, p, names, derived, income, mon, hh_facts, p_facts) for cell in self._cells]

    @property
    def _cells(self) -> list:
        return _column_cells(self.masked)

    def household_rows(
        self, hh: dict, members: list[dict], names: tuple[str, str, str], derived: dict, income: dict | None
    ) -> Iterator[tuple]:
        """``row`` of each member in turn, the household's cells made once: a household column's cell is
        called without the person (``p`` and ``pf`` None, so a cell that did read the person would fail,
        never repeat another member's value) and reused on every member's row. The person's plain text
        columns (``_cell``: ``fmt(p[f])`` / ``fmt(pf.get(k, ""))`` with the text formatter, None blank) are
        read in one pass each, not a closure per cell."""
        pick = self._split[4]
        household, person = _generated(self.masked)
        mon = self.monitoring.get(hh["id"], {})
        hh_facts = hh["national_facts"] or {}
        shared = household(hh, names, derived, income, mon, hh_facts)
        for p in members:
            yield pick(
                shared + person(hh, p, names, derived, income, mon, hh_facts, p["national_facts"] or {})
            )

    @property
    def _split(self) -> tuple[list, Any, tuple[str, ...], list, Any]:
        return _column_split(self.masked)

    def household_pieces(
        self,
        ws,
        hh: dict,
        members: list[dict],
        names: tuple[str, str, str],
        derived: dict,
        income: dict | None,
    ) -> Iterator[tuple[str, ...]]:
        """``household_rows`` as the worksheet's pieces of each member's row (``xlsx._SheetStream.pieces``;
        ``ws`` the sheet): the household's cells made and turned into their XML once, only the person's
        cells per member, and the row put together by one ``itemgetter`` over both — the bytes
        ``_SheetStream.values`` writes for ``household_rows`` (``test_export_builder``)."""
        hjoints, pjoints, order = _xml_plan(self.masked)
        household, person = _generated(self.masked)
        mon = self.monitoring.get(hh["id"], {})
        hh_facts = hh["national_facts"] or {}
        shared = household(hh, names, derived, income, mon, hh_facts)
        head = [*_ROW_HEAD, *map(operator.add, ws.tails(shared), hjoints)]
        tails = ws.tails
        for p in members:
            values = person(hh, p, names, derived, income, mon, hh_facts, p["national_facts"] or {})
            yield order(head + list(map(operator.add, tails(values), pjoints)))

    @staticmethod
    def _fmt(kind: str, key: str, v: Any) -> Any:
        if v is None:
            return ""
        if kind == "bool":
            return v if isinstance(v, str) else fmt_bool(v)
        if kind == "date":
            return fmt_date(v) if isinstance(v, dt.date) else v
        if kind == "yyyymm":
            return fmt_yyyymm(v) if isinstance(v, dt.date) else v
        if kind == "gender":
            return fmt_gender(v)
        if kind == "number" and isinstance(v, (Decimal, int)) and not isinstance(v, bool):
            return f"{Decimal(v):.{PLACES.get(key, 2)}f}"  # text, as the national export writes numbers
        return v


@functools.cache
def _column_cells(masked: bool) -> list:
    """The cell of each ``EXPORT_COLUMNS`` entry (``_cell``), made once per process for masked and for
    unmasked exports: a cell depends on its column and the masking only."""
    return [_cell(col, masked) for col in EXPORT_COLUMNS]


@functools.cache
def _column_split(masked: bool) -> tuple[list, Any, tuple[str, ...], list, Any]:
    """(the household columns' cells, the getter of the person's plain text fields, the plain text facts'
    keys, the other person columns' cells, the itemgetter that puts the concatenation of their values
    back in ``EXPORT_COLUMNS`` order), once per process for each masking."""
    cells = _column_cells(masked)
    mine = [i for i, col in enumerate(EXPORT_COLUMNS) if _per_person(col)]
    shared = [i for i in range(len(cells)) if i not in set(mine)]
    texts = [i for i in mine if _plain_text(EXPORT_COLUMNS[i], masked) == PERSON]
    facts = [i for i in mine if _plain_text(EXPORT_COLUMNS[i], masked) == PERSON_FACTS]
    rest = [i for i in mine if i not in set(texts) | set(facts)]
    where = {i: j for j, i in enumerate(shared + texts + facts + rest)}
    fields = [FIELD_OF.get(EXPORT_COLUMNS[i].key, EXPORT_COLUMNS[i].key) for i in texts]
    return (
        [cells[i] for i in shared],
        _getter(fields),
        tuple(EXPORT_COLUMNS[i].key for i in facts),
        [cells[i] for i in rest],
        operator.itemgetter(*(where[i] for i in range(len(cells)))),
    )


@functools.cache
def _xml_plan(masked: bool) -> tuple:
    """For ``household_pieces``, in ``_column_split``'s order: the joints after each household cell's tail
    (``xlsx.joints``: column ``i``'s at ``i + 2``), the joints after each person cell's (texts, facts, the
    others), and the itemgetter that puts the row's two opening pieces, the household's pieces and the
    person's in column order."""
    household, fields, fact_keys, person, pick = _column_split(masked)
    where = pick(range(len(EXPORT_COLUMNS)))  # column -> its place in shared + texts + facts + rest
    j = joints(len(EXPORT_COLUMNS))
    after = {w: j[i + 2] for i, w in enumerate(where)}  # place -> the joint after that column's tail
    a = len(household)
    return (
        [after[w] for w in range(a)],
        [after[w] for w in range(a, len(where))],
        operator.itemgetter(0, 1, *(len(_ROW_HEAD) + w for w in where)),
    )


def _formatter(kind: str, key: str):
    """``_RowBuilder._fmt`` for one column, as a function of the value (None is always blank)."""
    if kind == "text" or kind not in ("bool", "date", "yyyymm", "gender", "number"):
        return lambda v: "" if v is None else v
    if kind == "bool":
        yes_no = {True: fmt_bool(True), False: fmt_bool(False)}

        def boolean(v):
            if type(v) is bool:  # the common case first: a model's BooleanField
                return yes_no[v]
            return "" if v is None else v if isinstance(v, str) else fmt_bool(v)

        return boolean
    if kind == "date":
        return lambda v: "" if v is None else fmt_date(v) if isinstance(v, dt.date) else v
    if kind == "yyyymm":
        return lambda v: "" if v is None else fmt_yyyymm(v) if isinstance(v, dt.date) else v
    if kind == "gender":
        return lambda v: "" if v is None else fmt_gender(v)
    spec = f".{PLACES.get(key, 2)}f"

    def number(v):
        if type(v) is Decimal:  # the common case first (``Decimal(v)`` of a Decimal is the same number)
            return format(v, spec)
        if v is None:
            return ""
        if isinstance(v, (Decimal, int)) and not isinstance(v, bool):
            return format(Decimal(v), spec)
        return v

    return number


_BLANKS = itertools.repeat("")
_ROW_HEAD = tuple(joints(1)[:2])  # a row's pieces before its first cell's tail: '<row r="', '"><c r="A'


def _getter(fields: list[str]):
    """``p -> tuple(p[f] for f in fields)`` (``operator.itemgetter``, a tuple for one or no field too)."""
    if len(fields) > 1:
        return operator.itemgetter(*fields)
    return lambda p: tuple(p[f] for f in fields)


def _plain_text(col: Column, masked: bool) -> str:
    """PERSON or PERSON_FACTS when ``_cell(col, masked)`` is its plain text branch (``fmt(p[f])``,
    ``fmt(pf.get(k, ""))`` with ``_formatter("text")``), else ""."""
    k = col.key
    if col.kind != "text" or k == "id_number":
        return ""
    if col.target == PERSON_FACTS:
        return "" if col.extra.get("phone") and masked else PERSON_FACTS
    if col.target != PERSON or k in ("public_welfare_job_months", "public_welfare_job_name"):
        return ""
    if k == "safe_drinking_water" or (k == "person_phone" and masked) or (k == "birth_date" and masked):
        return ""
    return PERSON


def _per_person(col: Column) -> bool:
    """Whether ``_cell(col)`` reads the person (``p`` or ``pf``), following its branches in order; the other
    columns are the household's (its fields, facts, income, monitoring, names, derived values)."""
    k, target = col.key, col.target
    if target == LOC:
        return False
    if k == "id_number":
        return True
    if target == HH_FACTS:
        return False
    if target == PERSON_FACTS:
        return True
    if k == "safe_drinking_water" or (target == HH and k != "g_housing"):
        return False
    if k in ("public_welfare_job_months", "public_welfare_job_name") or target == PERSON:
        return True
    if target in (INCOME, MON):
        return False
    return target == DERIVED and "same_as" in col.extra


def _cell(col: Column, masked: bool):
    """The cell of one column: ``f(hh, p, names, derived, income, mon, hh_facts, p_facts) -> value``, where
    the value is read from as the column's target says (the same branches, in the same order, as the one
    loop over the columns this replaced: ``fangpin/registry/tests/test_export_builder.py`` holds that loop as the reference)."""
    k, target, extra = col.key, col.target, col.extra
    fmt = _formatter(col.kind, k)
    if target == LOC:
        i = {"county": 0, "township": 1, "village": 2}.get(k)
        if i is not None:
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(names[i])
        if k == "village_code":
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(hh["village_id"])
        raise KeyError(k)
    if k == "id_number":

        def id_number(hh, p, names, d, inc, mon, hf, pf):
            v = (
                p["disability_cert_no"]
                if p["id_type"] == "残疾人证" and p["disability_cert_no"]
                else p["id_number"]
            )
            return fmt(mask_id_number(v) if masked else (v or ""))

        return id_number
    if target == HH_FACTS:
        if "export" in extra:
            e = extra["export"]
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(d.get(e, ""))
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(hf.get(k, ""))
    if target == PERSON_FACTS:
        if extra.get("phone") and masked:
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(mask_phone(pf.get(k, "")))
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(pf.get(k, ""))
    if k == "safe_drinking_water":
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(hh[k] if hh[k] is not None else d["g_water"])
    if target == HH and k != "g_housing":
        if k == "phone" and masked:
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(mask_phone(hh[k]))
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(hh[k])
    if k == "public_welfare_job_months":
        # blank = not applicable for people without such a post (policy-research §4.2.1)
        def job_months(hh, p, names, d, inc, mon, hf, pf):
            has_job = p["public_welfare_job"] or p["public_welfare_job_name"]
            return fmt(p[k] if has_job or p[k] else "")

        return job_months
    if k == "public_welfare_job_name":
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(
            p[k] or ("是" if p["public_welfare_job"] else "")
        )
    if target == PERSON:
        f = FIELD_OF.get(k, k)
        if k == "person_phone" and masked:
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(mask_phone(p[f]))
        if k == "birth_date" and masked:  # with the masked ID it would rebuild the number
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(mask_birth_date(p[f]))
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(p[f])
    if target == INCOME:
        if k == "stated_per_capita":  # the computed 人均纯收入 (the stated one is checked)
            return lambda hh, p, names, d, inc, mon, hf, pf: "" if inc is None else fmt(d.get("per_capita"))
        if k == "transfer_total":
            return lambda hh, p, names, d, inc, mon, hf, pf: (
                "" if inc is None else fmt(d.get("transfer_total"))
            )
        return lambda hh, p, names, d, inc, mon, hf, pf: "" if inc is None else fmt(inc[k])
    if target == MON:
        if k in RISK_KEYS:
            i = int(k[-1]) - 1

            def risk(hh, p, names, d, inc, mon, hf, pf):
                risks = mon.get("risk_types") or []
                return fmt(risks[i] if i < len(risks) else "")

            return risk
        if k == "eliminated":
            return lambda hh, p, names, d, inc, mon, hf, pf: fmt(
                fmt_bool(mon["eliminated"]) if mon.get("category") else ""
            )
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(mon.get(k) or "")
    if target == DERIVED and "same_as" in extra:
        same = extra["same_as"]
        return lambda hh, p, names, d, inc, mon, hf, pf: fmt(p[same])
    return lambda hh, p, names, d, inc, mon, hf, pf: fmt(d.get(k, ""))  # g_housing


def _cell_read(col: Column, masked: bool) -> tuple[str | None, bool]:
    """(the Python expression of the value ``_cell(col, masked)`` formats, whether the cell is blank without
    an income record), following ``_cell``'s branches in order; (None, False) where the generated code calls
    the cell itself (the ID, 饮水, 公益性岗位 and risk cells). The expressions read only the cell's arguments
    (``hh, p, names, d, inc, mon, hf, pf``) by the column table's own keys: no exported value is ever code."""
    k, target, extra = col.key, col.target, col.extra
    if target == LOC:
        i = {"county": 0, "township": 1, "village": 2}.get(k)
        if i is not None:
            return f"names[{i}]", False
        if k == "village_code":
            return 'hh["village_id"]', False
        raise KeyError(k)
    if k == "id_number":
        return None, False
    if target == HH_FACTS:
        if "export" in extra:
            return f"d.get({extra['export']!r}, '')", False
        return f"hf.get({k!r}, '')", False
    if target == PERSON_FACTS:
        if extra.get("phone") and masked:
            return f"mask_phone(pf.get({k!r}, ''))", False
        return f"pf.get({k!r}, '')", False
    if k == "safe_drinking_water":
        return None, False
    if target == HH and k != "g_housing":
        if k == "phone" and masked:
            return f"mask_phone(hh[{k!r}])", False
        return f"hh[{k!r}]", False
    if k in ("public_welfare_job_months", "public_welfare_job_name"):
        return None, False
    if target == PERSON:
        f = FIELD_OF.get(k, k)
        if k == "person_phone" and masked:
            return f"mask_phone(p[{f!r}])", False
        if k == "birth_date" and masked:
            return f"mask_birth_date(p[{f!r}])", False
        return f"p[{f!r}]", False
    if target == INCOME:
        if k == "stated_per_capita":
            return "d.get('per_capita')", True
        if k == "transfer_total":
            return "d.get('transfer_total')", True
        return f"inc[{k!r}]", True
    if target == MON:
        if k in RISK_KEYS or k == "eliminated":
            return None, False
        return f"(mon.get({k!r}) or '')", False
    if target == DERIVED and "same_as" in extra:
        return f"p[{extra['same_as']!r}]", False
    return f"d.get({k!r}, '')", False  # g_housing


def _cell_source(i: int, masked: bool, env: dict[str, Any]) -> str:
    """The expression of ``EXPORT_COLUMNS[i]``'s cell value, its formatter inlined for the common types (as
    ``_formatter`` tests them first); what it calls is put in ``env``."""
    col = EXPORT_COLUMNS[i]
    read, per_income = _cell_read(col, masked)
    if read is None:
        env[f"C{i}"] = _column_cells(masked)[i]
        return f"C{i}(hh, p, names, d, inc, mon, hf, pf)"
    env[f"F{i}"] = _formatter(col.kind, col.key)
    kind = col.kind if col.kind in ("bool", "date", "yyyymm", "gender", "number") else "text"
    if kind == "text":
        src = f"('' if (v := {read}) is None else v)"
    elif kind == "bool":
        src = f"(YES if (v := {read}) is True else NO if v is False else F{i}(v))"
    elif kind == "number":
        env[f"S{i}"] = f".{PLACES.get(col.key, 2)}f"
        src = f"(format(v, S{i}) if type(v := {read}) is Decimal else F{i}(v))"
    else:
        src = f"F{i}({read})"
    return f"('' if inc is None else {src})" if per_income else src


@functools.cache
def _generated(masked: bool) -> tuple[Any, Any]:
    """(``household(hh, names, d, inc, mon, hf)``, ``person(hh, p, names, d, inc, mon, hf, pf)``): the values of
    ``_column_split``'s household cells and of its person cells (texts, facts, the others), in its order, as two
    functions generated once per process from the column plan — each cell an expression of one list, not a
    closure and a formatter call (``_cells`` are the reference: ``test_export_builder``)."""
    cols = len(EXPORT_COLUMNS)
    mine = [i for i, col in enumerate(EXPORT_COLUMNS) if _per_person(col)]
    shared = [i for i in range(cols) if i not in set(mine)]
    texts = [i for i in mine if _plain_text(EXPORT_COLUMNS[i], masked) == PERSON]
    facts = [i for i in mine if _plain_text(EXPORT_COLUMNS[i], masked) == PERSON_FACTS]
    rest = [i for i in mine if i not in set(texts) | set(facts)]
    env: dict[str, Any] = {
        "YES": fmt_bool(True),
        "NO": fmt_bool(False),
        "Decimal": Decimal,
        "mask_phone": mask_phone,
        "mask_birth_date": mask_birth_date,
    }
    h = ",\n        ".join(_cell_source(i, masked, env) for i in shared)
    m = ",\n        ".join(_cell_source(i, masked, env) for i in texts + facts + rest)
    src = (
        f"def household(hh, names, d, inc, mon, hf):\n    p = pf = None\n    return [\n        {h},\n    ]\n\n"
        f"def person(hh, p, names, d, inc, mon, hf, pf):\n    return [\n        {m},\n    ]\n"
    )
    exec(compile(src, f"<registry export plan, masked={masked}>", "exec"), env)  # noqa: S102 (our own source)
    return env["household"], env["person"]


def _households_in_scope(*, actor, region_code: str | None):
    qs = scoped(actor, Household.objects.all())
    if region_code:
        prefix = code_prefix(region_code)
        own = actor.scope_prefix or ""
        if not prefix.startswith(own):
            audit_record(
                actor=actor,
                event_type="registry.export",
                result="refused",
                region_code=region_code[:12],
                reason="区域不存在或无权访问",
            )
            raise NotFound("区域")
        qs = qs.filter(village__code__startswith=prefix)
    return qs


def registry_export(
    *,
    actor,
    out_path: Path | str,
    on: dt.date,
    region_code: str | None = None,
    unmasked: bool = False,
    kind: str = KIND_REGISTRY,
    income_year: int | None = None,
    households=None,
    filters: dict[str, str] | None = None,
) -> ExportResult:
    """Write the export file (xlsx, or CSV when ``out_path`` ends in .csv) and audit it. ``on`` is the
    business date of the export (ages, monitoring status, the date columns of the file).

    ``households`` (a queryset of household ids, e.g. the browser's filtered list, or a list of ids:
    ``export_jobs.export_targets``) narrows the export to exactly those households — still inside the actor's scope; ``filters`` is recorded in the audit event."""
    require(actor, Cap.REGISTRY_EXPORT)
    if unmasked and not actor.can(Cap.EXPORT_UNMASKED):
        raise PermissionDenied("无权导出明文身份证号和电话，请申请脱敏导出")
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise DomainError(E_FORMAT, "导出文件须为.xlsx或.csv")
    today = on
    provider = _monitoring_provider()

    hh_qs = _households_in_scope(actor=actor, region_code=region_code).filter(status="active")
    if households is not None:
        hh_qs = hh_qs.filter(pk__in=households)
    households = {h["id"]: h for h in hh_qs.order_by("village_id", "household_no").values(*HH_FIELDS)}
    monitoring: dict[int, dict] = {}
    for chunk in _chunks(list(households), CHUNK):
        monitoring.update(provider(chunk))
    if kind == KIND_MONITORING:
        households = {k: v for k, v in households.items() if monitoring.get(k, {}).get("category")}

    members: dict[int, list[dict]] = defaultdict(list)
    incomes: dict[int, dict] = {}
    ids = list(households)
    for chunk in _chunks(ids, CHUNK):
        for p in Person.objects.filter(household_id__in=chunk, is_member=True).values(*PERSON_FIELDS):
            members[p["household_id"]].append(p)
        # the year asked for, else each household's latest calendar-year record (the year its file gave)
        inc_qs = IncomeRecord.objects.filter(
            household_id__in=chunk, period_start__month=1, period_start__day=1
        )
        inc_qs = inc_qs.filter(period_end__month=12, period_end__day=31)
        if income_year:
            inc_qs = inc_qs.filter(period_start=dt.date(income_year, 1, 1))
        # which record each household's is, from three columns of every candidate (ordered: the latest
        # year wins); then only those records in full (a household has a record for each of several years)
        chosen: dict[int, int] = {}
        for rid, hid, start, end in inc_qs.order_by("household_id", "period_start", "id").values_list(
            "id", "household_id", "period_start", "period_end"
        ):
            if end.year == start.year:
                chosen[hid] = rid
        for r in IncomeRecord.objects.filter(pk__in=list(chosen.values())).values(*INCOME_FIELDS):
            incomes[r["household_id"]] = r
    names = _region_names({h["village_id"] for h in households.values()})
    builder = _RowBuilder(masked=not unmasked, income_year=income_year, on=today, monitoring=monitoring)

    def exported() -> Iterator[tuple]:
        """(household, its members in order, its 县/乡/村, derived values, income) of each household with members."""
        for hid, hh in households.items():
            ms = sorted(members.get(hid, []), key=lambda m: (_RELATION_ORDER.get(m["relation"], 9), m["id"]))
            if not ms:
                continue
            income = incomes.get(hid)
            yield hh, ms, names[hh["village_id"]], builder.household_derived(hh, ms, income), income

    def rows() -> Iterator[tuple]:
        for hh, ms, place, derived, income in exported():
            yield from builder.household_rows(hh, ms, place, derived, income)

    def fill(ws) -> int:  # the xlsx: the same rows as their cells' XML (``household_pieces``)
        n = 0
        for hh, ms, place, derived, income in exported():
            for pieces in builder.household_pieces(ws, hh, ms, place, derived, income):
                ws.pieces(pieces)
                n += 1
        return n

    headers = [c.header for c in EXPORT_COLUMNS]
    masked_txt = "否（明文）" if unmasked else "是"
    subtitle = (
        f"导出人：{actor.username}  导出时间：{clock.now():%Y-%m-%d %H:%M}  范围：{region_code or actor.region_id}"
        f"  收入年度：{income_year or '各户最近年度'}  脱敏：{masked_txt}"
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        n = write_csv(out_path, headers=headers, rows=rows())
    else:
        n = write_xlsx(out_path, title=TITLES[kind], subtitle=subtitle, headers=headers, rows=(), fill=fill)
    digest = hashlib.sha256(out_path.read_bytes()).hexdigest()
    audit_record(
        actor=actor,
        event_type="registry.export",
        object_type="registry.export",
        object_id=digest[:16],
        region_code=region_code or actor.region_id or "",
        data={
            "kind": kind,
            "rows": n,
            "households": len(households),
            "columns": headers,
            "masked": not unmasked,
            "format": suffix[1:],
            "file_name": out_path.name,
            "sha256": digest,
            "income_year": income_year,
            **({"filters": filters} if filters is not None else {}),
        },
    )
    return ExportResult(out_path, n, len(households), not unmasked, digest, headers)
