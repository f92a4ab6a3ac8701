"""Declared schema of a department dataset: columns, header aliases, types.

Every source is one folder ``sources/<kind>/spec.py`` exposing ``SPEC``; ``sources/__init__.py`` lists
them in ``SOURCES``. The parser (``sources/parse.py``) and the engine only read these declarations, so a
new department file format never changes the engine.

Canonical columns added to every stored batch (whatever the department):
``record_key`` (BIGINT, batch id << 32 | row number), ``row_no`` (row as the user sees it),
``id_number`` (normalised 18 digits or NULL), ``id_raw``, ``id_status`` (ok/missing/invalid/scientific),
``name``, ``name_pinyin``, ``birth_date``, ``sex`` (M/F), ``village`` (village name), ``event_date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column types understood by the parser.
TEXT = "text"
INT = "int"
MONEY = "money"  # DOUBLE, yuan
DATE = "date"
ID = "id"  # 身份证号 / 残疾人证号 → canonical id_number + id_raw + id_status
SEX = "sex"  # 男/女/M/F/1/2 → M/F
CHOICE = "choice"


@dataclass(frozen=True)
class Column:
    name: str  # canonical column name (English identifier)
    title: str  # Chinese header as departments usually spell it
    type: str = TEXT
    aliases: tuple[str, ...] = ()
    required: bool = False
    choices: tuple[str, ...] = ()  # for CHOICE: accepted values (after alias mapping)
    choice_aliases: dict[str, str] = field(default_factory=dict)  # e.g. {"住院治疗": "住院"}
    # Canonical columns whose cell stands in when this column's header is absent (出院日期 for the
    # settlement date, 年级 for the school stage); the cell goes through this column's conversion.
    fallback: tuple[str, ...] = ()
    # Plausible range of a MONEY/INT value (inclusive); None = the type's default (money 0 … 1亿).
    min_value: float | None = None
    max_value: float | None = None

    def headers(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)


@dataclass(frozen=True)
class FactMap:
    """A department column that states a registry fact (death date, disability grade, house grade …).

    The engine compares it with the registry export set-based (``engine.rules.compile_source``) and returns
    only the persons whose latest department value differs; the run hands those to
    ``trust.services.provenance.fact_record``, whose conflict policy applies them or opens a discrepancy.
    Values are compared as text in the registry's vocabulary: ``value_map`` turns department values into
    registry values (unmapped values are kept), ``registry_map`` folds registry values the department
    cannot tell apart (城市低保 → 农村低保) before comparing."""

    entity: str  # "person" or "household" (the fact_record entity)
    field: str  # registry model field
    column: str  # department column carrying the value
    registry_column: str  # column of the registry export (persons Parquet)
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)  # record filter, like a rule's "where"
    value_map: dict[str, str] = field(default_factory=dict)
    registry_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Implied:
    """A file kind that states a value instead of a column: a 公安 death list (header 死亡日期, no
    变动类型) means every row is a death. Applies only when ``column`` is not in the file."""

    header: str  # a header whose presence tells the file's kind
    column: str  # canonical column the kind fills
    value: str


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # stable code, e.g. "medical"
    title: str  # Chinese title, e.g. "医保结算"
    departments: tuple[str, ...]  # User.department values allowed to upload this kind
    columns: tuple[Column, ...]
    event_date: str  # canonical column that dates the record (rule windows filter on it)
    description: str = ""
    # Records whose valid ID is simply not in the registry are usually people outside the registry
    # (医保 covers every resident). Only small, registry-oriented lists send those to linkage too.
    link_unmatched_valid_ids: bool = False
    # Registry facts the department states (compared with the registry every run; see FactMap).
    facts: tuple[FactMap, ...] = ()
    # Consent scope of a record, by one of its columns (e.g. asset_type 车辆 → "vehicles"); rules that need
    # consent (ScreeningRule.consent_scope) also accept a 承诺授权书 covering this narrower scope.
    consent_scope_column: str = ""
    consent_scope_values: dict[str, str] = field(default_factory=dict)
    # Values a file's kind implies when a column is absent (checked in order; the first match wins).
    implied: tuple[Implied, ...] = ()

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def value_columns(self) -> list[Column]:
        """Department-specific columns (everything except the person identification block)."""
        return [c for c in self.columns if c.name not in PERSON_COLUMNS]


PERSON_COLUMNS = ("id_number", "name", "birth_date", "sex", "village")


def person_columns(*, id_title: str = "证件号码", id_aliases: tuple[str, ...] = ()) -> tuple[Column, ...]:
    """The identification block every department file carries (ID may be empty: linkage then)."""
    return (
        Column(
            "id_number",
            id_title,
            ID,
            # in priority order: a member's own number before the household head's
            aliases=(
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "公民身份证号码",
                "身份号码",
                "证件号",
                "证件号码",
                "身份证件号",
                "身份证件号码",
                "身份证",
                "残疾人证号",
                "成员身份证号",
                "成员身份证号码",
                *id_aliases,
                "户主身份证号",
                "户主身份证号码",
                "户主证件号码",
            ),
        ),
        Column(
            "name",
            "姓名",
            TEXT,
            aliases=("人员姓名", "参保人姓名", "成员姓名", "学生姓名", "姓 名", "户主姓名"),
            required=True,
        ),
        Column("birth_date", "出生日期", DATE, aliases=("出生年月", "出生年月日")),
        Column("sex", "性别", SEX),
        Column(
            "village",
            "所在村",
            TEXT,
            aliases=(
                "行政村",
                "村名称",
                "村",
                "居住村",
                "村(社区)",
                "村（社区）",
                "所属村",
                "村委会",
                "户籍村",
            ),
        ),
    )
