"""Validation of a whole import table before anything is written.

Set-based: each column's converter runs once per *distinct* value (an enumeration column of 100k rows
costs a handful of calls), the per-row values are then dictionary look-ups; cross-row rules (a household
whose rows disagree, duplicate 证件号码) are polars group-bys. The result is either a list of rejects
(row number as the user sees it, column header, value, Chinese reason, code) or the parsed households,
persons, income and monitoring facts that ``io.write`` compares with the database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from django.core.exceptions import FieldDoesNotExist

from fangpin.core.errors import RowError
from fangpin.core.ids import validate_id_numbers
from fangpin.registry.models import Household, IncomeRecord, Person

from .columns import (
    BY_KEY,
    DEFAULT,
    DERIVED,
    HH,
    HH_FACTS,
    INCOME,
    INCOME_KEYS,
    LOC,
    MON,
    PERSON,
    PERSON_FACTS,
    REQUIRED,
    RISK_KEYS,
    ROW,
    TRANSFER_ITEM_KEYS,
    CellError,
    Column,
    FactsDict,
    canonical_text,
    date_form,
)
from .convert import dates_as_of
from .read import Table
from .values import Spellings
from .villages import VillageIndex

# Error codes of cross-field and cross-row rules.
E_ID = "bad_id"  # + the core.ids code in the message
E_DUP_ID = "duplicate_id"
E_HH_CONFLICT = "household_conflict"
E_GENDER_MISMATCH = "gender_mismatch"
E_BIRTH_MISMATCH = "birth_mismatch"
E_DISABILITY = "bad_disability_cert"
E_RISK = "bad_risk_type"
E_MONITORING = "monitoring_incomplete"
E_TRANSFER_SUM = "transfer_sum"
E_OUT_OF_SCOPE = "out_of_scope"
E_MEMBER_MOVE = "member_move_unstated"
E_REQUIRED_MSG = "必填项为空"

_MODEL_OF = {HH: Household, PERSON: Person, INCOME: IncomeRecord}
FIELD_OF = {"person_phone": "phone"}  # column key → model field when they differ
_HOUSEHOLD_LEVEL = (HH, LOC, INCOME, MON, HH_FACTS)


@dataclass
class ParsedHousehold:
    household_no: str
    village_code: str
    first_row: int
    fields: dict[str, Any]
    grade_hint: bool | None = None  # 是否危房户 when the file has no 住房安全等级
    income: dict[str, Decimal] | None = None
    monitoring: dict[str, Any] | None = None


@dataclass
class ParsedPerson:
    row: int
    household_no: str
    id_number: str
    fields: dict[str, Any]
    stated_change: str = ""  # 成员变更 (迁移 / 分户): the file states this person moved to this household


@dataclass
class Parsed:
    households: dict[str, ParsedHousehold] = field(default_factory=dict)
    persons: list[ParsedPerson] = field(default_factory=list)
    rejects: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    household_fields: tuple[str, ...] = ()
    person_fields: tuple[str, ...] = ()
    income_fields: tuple[str, ...] = ()
    spellings: Spellings = field(default_factory=Spellings)
    not_stored: list[dict[str, str]] = field(default_factory=list)  # recognised columns not stored, why

    @property
    def ok(self) -> bool:
        return not self.rejects


def _blank_value(col: Column) -> Any:
    """What a blank cell means (policy-research §4.2.1: blank = not applicable)."""
    model = _MODEL_OF.get(col.target)
    name = FIELD_OF.get(col.key, col.key)
    if model is None or col.target == INCOME:
        return None  # monitoring, location and income blanks stay "not given"
    try:
        f = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if col.blank == DEFAULT and f.has_default():
        return f.get_default()
    return None if f.null else ("" if f.get_internal_type() == "CharField" else f.get_default())


class _Validator:
    def __init__(self, table: Table, *, village_index: VillageIndex, risk_types: list[str], today: dt.date):
        self.t = table
        self.n = len(table.rows)
        self.rows = table.row_numbers
        self.vindex = village_index
        self.risk_types = risk_types
        self.today = today
        self.rejects: list[RowError] = []
        self.warnings: list[RowError] = []
        self.bad = [False] * self.n
        self.raw: dict[str, list[str]] = {}
        self.val: dict[str, list[Any]] = {}
        self.spellings = Spellings()

    def v_at(self, key: str, i: int) -> Any:
        """Converted value of a column at row i (None when the file has no such column)."""
        col = self.val.get(key)
        return None if col is None else col[i]

    def raw_at(self, key: str, i: int) -> str:
        col = self.raw.get(key)
        return "" if col is None else col[i]

    def reject(self, i: int, key: str, value: str, message: str, code: str) -> None:
        self.bad[i] = True
        header = BY_KEY[key].header if key in BY_KEY else key
        self.rejects.append(RowError(self.rows[i], header, message, value, code))

    # ---- per column, per distinct value
    def convert_columns(self) -> None:
        for key in self.t.columns:
            col = BY_KEY[key]
            raws = self.t.column_values(key)
            self.raw[key] = raws
            if col.conv is None:
                continue
            ok: dict[str, Any] = {}
            errs: dict[str, tuple[str, str]] = {}
            blank = _blank_value(col)
            for u in set(raws):
                if u == "":
                    if col.blank == REQUIRED:
                        errs[u] = ("required", E_REQUIRED_MSG)
                    else:
                        ok[u] = blank
                    continue
                try:
                    ok[u] = col.conv(u)
                except CellError as e:
                    errs[u] = (e.code, e.message)
            if errs:
                for i, r in enumerate(raws):
                    if r in errs:
                        code, msg = errs[r]
                        self.reject(i, key, r, msg, code)
            self.val[key] = list(map(ok.get, raws))  # C-level look-up per cell (ok.get(r) → None for rejects)
            self._count_spellings(col, raws, ok)

    def _count_spellings(self, col: Column, raws: list[str], ok: dict[str, Any]) -> None:
        """Non-canonical spellings the column used, and what they became (the import report)."""
        counts: Counter | None = None
        for u, value in ok.items():
            if u == "":
                continue
            canon = canonical_text(col, value)
            if canon is None:
                continue
            spelled = date_form(u) if col.kind in ("date", "yyyymm") else u
            if spelled != canon:
                counts = counts if counts is not None else Counter(raws)
                self.spellings.add(col.header, spelled, canon, counts[u])

    # ---- identity
    def check_ids(self) -> list[str]:
        raws = self.raw["id_number"]
        checks = validate_id_numbers(set(raws), on=self.today)  # column-wise, per distinct value
        norm = [""] * self.n
        for i, r in enumerate(raws):
            c = checks[r]
            if not c.ok:
                code, msg = c.errors[0]
                self.reject(i, "id_number", r, msg if r else E_REQUIRED_MSG, "required" if not r else code)
                continue
            norm[i] = c.normalized
        self.id_checks = checks
        return norm

    def check_person_facts(self, norm: list[str]) -> None:
        gender = self.val.get("gender")
        birth = self.val.get("birth_date")
        for i in range(self.n):
            if not norm[i]:
                continue
            c = self.id_checks[self.raw["id_number"][i]]
            if gender is not None and gender[i] and gender[i] != c.gender:
                self.reject(i, "gender", self.raw["gender"][i], "性别与证件号码不一致", E_GENDER_MISMATCH)
            if birth is not None and birth[i] and birth[i] != c.birth_date:
                self.reject(
                    i,
                    "birth_date",
                    self.raw["birth_date"][i],
                    f"出生日期与证件号码不一致（证件号码为{c.birth_date:%Y%m%d}）",
                    E_BIRTH_MISMATCH,
                )
            if c.disability_suffix:
                cat, grade = c.disability_suffix[0], c.disability_suffix[1]
                if cat not in "1234567" or grade not in "1234":
                    self.reject(
                        i,
                        "id_number",
                        self.raw["id_number"][i],
                        "残疾人证号码后两位应为残疾类别（1-7）和残疾等级（1-4）",
                        E_DISABILITY,
                    )

    def check_duplicates(self, norm: list[str], hh_nos: list[str]) -> None:
        df = pl.DataFrame({"i": range(self.n), "id": norm, "hh": hh_nos})
        dup = df.filter(pl.col("id") != "").group_by("id").agg(pl.col("i")).filter(pl.col("i").list.len() > 1)
        for idx in dup["i"].to_list():
            rows = [self.rows[j] for j in idx]
            for j in idx:
                others = "、".join(str(r) for r in rows if r != self.rows[j])
                self.reject(
                    j,
                    "id_number",
                    self.raw["id_number"][j],
                    f"证件号码在文件中重复（另见第{others}行）",
                    E_DUP_ID,
                )

    def check_household_consistency(self, hh_nos: list[str], relations: list[str]) -> None:
        """Household-level columns must agree on every member row. The household's value is the one most of
        its rows carry (a tie goes to the 户主 row); only the rows that deviate from it are reported, with
        the rows they disagree with — never the clean siblings."""
        keys = [k for k in self.t.columns if BY_KEY[k].target in _HOUSEHOLD_LEVEL and k != "household_no"]
        if not keys:
            return
        df = pl.DataFrame({"i": range(self.n), "hh": hh_nos, **{k: self.raw[k] for k in keys}})
        df = df.filter(pl.col("hh") != "")
        agg = df.group_by("hh").agg(pl.col("i"), *[(pl.col(k).n_unique() > 1).alias(k) for k in keys])
        conflict = agg.filter(pl.any_horizontal([pl.col(k) for k in keys]))
        for rec in conflict.iter_rows(named=True):
            idx = rec["i"]
            heads = [j for j in idx if relations[j] == "户主"]
            for k in (k for k in keys if rec[k]):
                # spellings differ; values are compared as read (2023-05 and 2023-05-01 are one month)
                col = {j: str(self.val[k][j]) if k in self.val else self.raw[k][j] for j in idx}
                if len(set(col.values())) == 1:
                    continue
                votes = Counter(col[j] for j in idx)
                top = max(votes.values())
                leaders = [v for v, n in votes.items() if n == top]
                if len(leaders) > 1 and heads and col[heads[0]] in leaders:
                    ref = col[heads[0]]
                elif len(leaders) > 1:
                    ref = col[idx[0]]  # no majority and no 户主 row: the household's first row
                else:
                    ref = leaders[0]
                agree = "、".join(str(self.rows[j]) for j in idx if col[j] == ref)
                ref_raw = next(self.raw[k][j] for j in idx if col[j] == ref)
                for j in idx:
                    if col[j] != ref:
                        self.reject(
                            j,
                            k,
                            self.raw[k][j],
                            f"同一户（户编号{rec['hh']}）的“{BY_KEY[k].header}”与本户第{agree}行"
                            f"（“{ref_raw}”）不一致，户级信息须在每个成员行相同",
                            E_HH_CONFLICT,
                        )

    # ---- household-level facts
    def resolve_villages(self) -> list[str | None]:
        cols = [self.raw.get(k, [""] * self.n) for k in ("county", "township", "village", "village_code")]
        cache: dict[tuple[str, str, str, str], tuple[str | None, str, str]] = {}
        out: list[str | None] = [None] * self.n
        for i in range(self.n):
            key = (cols[0][i], cols[1][i], cols[2][i], cols[3][i])
            if key not in cache:
                cache[key] = self.vindex.resolve(*key)
            code, err, msg = cache[key]
            if code is None:
                col = "village_code" if key[3] else "village"
                self.reject(i, col, key[3] or key[2], msg, err)
            out[i] = code
        return out

    def monitoring_of(self, i: int) -> dict[str, Any] | None:
        v = self.val
        if not any(k in v for k in ("category", *RISK_KEYS)):
            return None
        category = self.v_at("category", i)
        risks = [v[k][i] for k in RISK_KEYS if k in v and v[k][i]]
        if not category and not risks:
            return None
        for k in RISK_KEYS:
            if k in v and v[k][i] and v[k][i] not in self.risk_types:
                self.reject(
                    i,
                    k,
                    self.raw[k][i],
                    f"“{self.raw[k][i]}”不是有效的致贫/返贫风险类型，可选值：{'、'.join(self.risk_types)}",
                    E_RISK,
                )
        identified = self.v_at("identified_on", i)
        eliminated = self.v_at("eliminated", i)
        method = self.v_at("elimination_method", i)
        eliminated_on = self.v_at("eliminated_on", i)
        given = {k: bool(self.raw_at(k, i)) for k in ("identified_on", "eliminated_on")}
        problems = []
        if not category:
            problems.append(("category", "填写了致贫/返贫风险但监测对象类别为空"))
        if category and not given["identified_on"]:
            problems.append(("identified_on", "监测对象须填写识别监测时间（YYYYMM）"))
        if category and not risks:
            problems.append(("risk1", "监测对象须至少填写一项致贫/返贫风险"))
        if eliminated and not given["eliminated_on"]:
            problems.append(("eliminated_on", "风险已消除的须填写消除监测时间（YYYYMM）"))
        if (eliminated or given["eliminated_on"]) and not method and not self.raw_at("elimination_method", i):
            problems.append(("elimination_method", "风险已消除的须填写风险消除方式（帮扶消除/自然消除）"))
        if eliminated_on and identified and eliminated_on < identified:
            problems.append(("eliminated_on", "消除监测时间早于识别监测时间"))
        if eliminated_on and eliminated is False:
            problems.append(("eliminated", "填写了消除监测时间但风险是否已消除为“否”"))
        for key, msg in problems:
            self.reject(i, key, self.raw_at(key, i), msg, E_MONITORING)
        return {
            "category": category or "",
            "risk_types": risks,
            "identified_on": identified,
            "eliminated": bool(eliminated) or bool(eliminated_on),
            "elimination_method": method or "",
            "eliminated_on": eliminated_on,
        }

    def income_of(self, i: int) -> dict[str, Decimal] | None:
        present = [k for k in INCOME_KEYS if k in self.val and k != "stated_per_capita"]
        if not present or all(self.val[k][i] is None for k in present):
            if self.v_at("stated_per_capita", i) is not None:
                self.warnings.append(
                    RowError(
                        self.rows[i],
                        BY_KEY["stated_per_capita"].header,
                        "只有人均纯收入、没有收入分项，未建立收入记录（人均纯收入须由分项计算）",
                        self.raw["stated_per_capita"][i],
                        "stated_without_components",
                    )
                )
            return None
        amounts = {k: (self.val[k][i] if self.val[k][i] is not None else Decimal(0)) for k in present}
        if "stated_per_capita" in self.val:
            amounts["stated_per_capita"] = self.val["stated_per_capita"][i]
        total = amounts.pop("transfer_total", None)
        items = {k: amounts[k] for k in TRANSFER_ITEM_KEYS if k in amounts}
        if any(items.values()):
            if total is not None and total != sum(items.values(), Decimal(0)):
                self.reject(
                    i,
                    "transfer_total",
                    self.raw["transfer_total"][i],
                    f"转移性收入{total}与各分项之和{sum(items.values(), Decimal(0))}不一致",
                    E_TRANSFER_SUM,
                )
        elif total is not None:
            # Only the national total is known: it is kept as 其他转移性收入 (documented loss of detail).
            amounts["transfer_other"] = total
        return amounts


def _facts_rows(v: _Validator, target: str) -> list[FactsDict] | None:
    """Per row, the ``national_facts`` dict of the columns of ``target`` the file has (None: it has none)."""
    keys = [k for k in v.t.columns if BY_KEY[k].target == target]
    if not keys:
        return None
    present = frozenset(BY_KEY[k].header for k in keys)
    cols = [(BY_KEY[k].header, v.val[k]) for k in keys]
    out = []
    for i in range(v.n):
        d = FactsDict({h: col[i] for h, col in cols if col[i] not in (None, "")})
        d.present = present
        out.append(d)
    return out


_NOT_STORED_REASONS = {
    "out_of_school_reason_2": "与“失学或辍学原因”为同一事实（两列同时存在时按第一列保存）",
}


def _not_stored(table: Table, has_grade: bool, has_items: bool) -> list[dict[str, str]]:
    """Recognised columns of the file that are not stored as such, with the reason (import report)."""
    out = []
    for key in table.columns:
        col = BY_KEY[key]
        reason = ""
        if col.target == DERIVED:
            reason = _NOT_STORED_REASONS.get(key, "导出时由已保存的数据计算")
        elif col.target == ROW:
            reason = "本次导入的成员迁移说明，不作为字段保存，已记为人口变更"
        elif key == "g_housing" and has_grade:
            reason = "文件同时有“住房安全等级”，以等级为准"
        elif key == "transfer_total" and has_items:
            reason = "由各转移性收入分项之和得出（已核对一致）"
        elif key == "transfer_total":
            reason = "文件只有合计，按“其他转移性收入”保存"
        elif col.target == LOC:
            reason = "用于确定所在行政村（保存为村代码）"
        if reason:
            out.append({"column": col.header, "reason": reason})
    from .columns import normalize_header
    from .read import KNOWN_NOT_STORED

    for h in table.ignored_headers:
        reason = KNOWN_NOT_STORED.get(normalize_header(h), "按已保存的列对应设为“不导入”，未保存")
        out.append({"column": h, "reason": reason})
    for h in table.unknown_headers:
        out.append({"column": h, "reason": "不是监测对象信息表的列，未保存"})
    for h in table.duplicate_headers:
        out.append({"column": h, "reason": "与前面的列重复，按第一列保存"})
    return out


def _model_fields(keys: list[str], target: str) -> tuple[str, ...]:
    model = _MODEL_OF[target]
    names = {f.name for f in model._meta.get_fields()}
    return tuple(FIELD_OF.get(k, k) for k in keys if FIELD_OF.get(k, k) in names)


def validate_table(
    table: Table, *, village_index: VillageIndex, risk_types: list[str], on: dt.date
) -> Parsed:
    """Parse and check every row as of the business date ``on`` (dates and ID-number birth dates after it
    are in the future); see the module docstring."""
    v = _Validator(table, village_index=village_index, risk_types=risk_types, today=on)
    with dates_as_of(on):
        v.convert_columns()
    norm = v.check_ids()
    v.check_person_facts(norm)
    hh_nos = v.raw["household_no"]
    v.check_duplicates(norm, hh_nos)
    v.check_household_consistency(hh_nos, v.val.get("relation") or [""] * v.n)
    villages = v.resolve_villages()

    present = list(table.columns)
    hh_keys = [k for k in present if BY_KEY[k].target == HH and k != "household_no"]
    person_keys = [k for k in present if BY_KEY[k].target == PERSON]
    hh_facts, p_facts = _facts_rows(v, HH_FACTS), _facts_rows(v, PERSON_FACTS)
    hh_fields = _model_fields(hh_keys, HH) + (("national_facts",) if hh_facts is not None else ())
    person_fields = _model_fields(person_keys, PERSON) + (("national_facts",) if p_facts is not None else ())
    if "public_welfare_job_name" in v.val:
        person_fields += ("public_welfare_job",)
    has_grade = "house_grade" in v.val
    parsed = Parsed(household_fields=hh_fields, person_fields=person_fields)
    parsed.not_stored = _not_stored(table, has_grade, any(k in v.val for k in TRANSFER_ITEM_KEYS))
    stated_change = v.val.get("member_change")

    # Row dicts are built column-wise (zip over the converted columns), not key by key per row.
    hh_pairs = [(FIELD_OF.get(k, k), v.val[k]) for k in hh_keys if FIELD_OF.get(k, k) in hh_fields]
    p_pairs = [(FIELD_OF.get(k, k), v.val[k]) for k in person_keys if FIELD_OF.get(k, k) in person_fields]
    hh_names = [n for n, _ in hh_pairs]
    p_names = [n for n, _ in p_pairs]
    hh_rows = zip(*(col for _, col in hh_pairs), strict=True) if hh_pairs else iter(lambda: (), None)
    p_rows = zip(*(col for _, col in p_pairs), strict=True) if p_pairs else iter(lambda: (), None)
    id_raw = v.raw["id_number"]
    for i, hh_vals, p_vals in zip(range(v.n), hh_rows, p_rows, strict=False):  # the () iterators are endless
        hno = hh_nos[i]
        if hno and hno not in parsed.households and villages[i]:
            hf = dict(zip(hh_names, hh_vals, strict=True))
            if hh_facts is not None:
                hf["national_facts"] = hh_facts[i]
            parsed.households[hno] = ParsedHousehold(
                household_no=hno,
                village_code=villages[i] or "",
                first_row=v.rows[i],
                fields=hf,
                grade_hint=None if has_grade else v.v_at("g_housing", i),
                income=v.income_of(i),
                monitoring=v.monitoring_of(i),
            )
        if v.bad[i] or not norm[i]:
            continue
        c = v.id_checks[id_raw[i]]
        pf = dict(zip(p_names, p_vals, strict=True))
        pf["id_number"] = c.normalized
        pf["gender"] = pf.get("gender") or c.gender
        pf["birth_date"] = pf.get("birth_date") or c.birth_date
        pf["is_member"] = True
        if p_facts is not None:
            pf["national_facts"] = p_facts[i]
        if "public_welfare_job_name" in pf:
            pf["public_welfare_job"] = bool(pf["public_welfare_job_name"])
        if c.disability_suffix:
            pf["id_type"] = "残疾人证"
            pf["disability_cert_no"] = c.normalized + c.disability_suffix
            pf["disability_category"] = c.disability_suffix[0]
            pf["disability_grade"] = int(c.disability_suffix[1])
        for code, msg in c.warnings:
            if code != "id_disability_cert":
                v.warnings.append(RowError(v.rows[i], "证件号码", msg, id_raw[i], code))
        parsed.persons.append(
            ParsedPerson(v.rows[i], hno, c.normalized, pf, (stated_change[i] or "") if stated_change else "")
        )

    keys = set(parsed.person_fields) | {"id_number", "gender", "birth_date", "is_member"}
    if any("disability_cert_no" in p.fields for p in parsed.persons):
        keys |= {"id_type", "disability_cert_no", "disability_category", "disability_grade"}
    parsed.person_fields = tuple(sorted(keys))
    parsed.income_fields = tuple(
        sorted({k for h in parsed.households.values() if h.income for k in h.income if k != "transfer_total"})
    )
    parsed.spellings = v.spellings
    parsed.rejects = sorted(v.rejects, key=lambda e: (e.row, e.column))
    parsed.warnings = v.warnings
    return parsed
