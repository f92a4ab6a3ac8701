"""What the other national files share: a column table per file kind, header detection, cell conversion
with the spellings real and hand-saved files use (each mapping counted for the import report), and the
formats the national system writes back.

A file kind (``FileKind``) lists its columns (``KColumn``): the national header, aliases seen in
hand-saved files, the converter, and whether the value is stored (``field`` = the model field) or only
checked against the registry (``field=""`` with the reason in ``not_stored``), so no column is dropped
in silence. Reading reuses ``io.read.read_cells`` (the same magic-byte, zip and encoding checks as the
监测对象信息 import) and ``io.columns.normalize_header``; converters reuse ``io.convert``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from typing import Any

from fangpin.core.errors import DomainError

from ..columns import normalize_header
from ..convert import CellError, conv_bool, conv_decimal, conv_int, conv_text
from ..read import E_EMPTY, E_NO_HEADER, HEADER_SCAN_ROWS, Table, header_signature, read_cells

E_REQUIRED = "required"

# 是/否 as hand-kept sheets and provincial forms write them, beside 是/否 (and what io.convert accepts)
BOOL_SPELLINGS = {
    "有": "是", "无": "否", "没有": "否", "通": "是", "已通": "是", "不通": "否", "未通": "否",
    "已解决": "是", "未解决": "否", "能": "是", "不能": "否", "正常": "是", "不正常": "否",
    "已硬化": "是", "未硬化": "否", "是的": "是", "不是": "否",
}  # fmt: skip


@dataclass(frozen=True)
class KColumn:
    key: str
    header: str
    kind: str = "text"  # text / bool / decimal / int / enum
    field: str = ""  # model field; "" = not stored (see not_stored)
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_len: int = 50
    choices: tuple[str, ...] = ()
    value_aliases: dict[str, str] = dc_field(default_factory=dict)
    places: int = 2
    not_stored: str = ""  # why a column is read but not stored (the import report says it)


@dataclass(frozen=True)
class FileKind:
    kind: str
    title: str  # the national file name, e.g. （乡村建设）户信息
    columns: tuple[KColumn, ...]
    required_keys: tuple[str, ...]
    min_known: int = 4

    def column(self, key: str) -> KColumn:
        return next(c for c in self.columns if c.key == key)

    @property
    def stored(self) -> tuple[KColumn, ...]:
        return tuple(c for c in self.columns if c.field)

    def index(self) -> dict[str, KColumn]:
        out: dict[str, KColumn] = {}
        for c in self.columns:
            for h in (c.header, *c.aliases):
                out.setdefault(normalize_header(h), c)
        return out


def _find_header(
    rows: list[list[str]], spec: FileKind, mappings: dict[str, dict[str, str]] | None = None
) -> tuple[int, dict[str, int], list[str], list[str], list[str]]:
    """(row index, column key → position, unknown headers, duplicate headers, headers answered 不导入).

    ``mappings``: saved answers to the column-mapping question by ``header_signature`` (file header →
    column key, "" = 不导入; ``services/import_mapping.py``). When no row names every required column, the
    row naming the most known columns (``min_known``, with at least one of the file's own facts) is the
    header anyway, so the mapping question can ask which header is the missing one."""
    index = spec.index()
    best = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        answer = (mappings or {}).get(header_signature(row)) if any(row) else None
        mapped: dict[str, int] = {}
        unknown: list[str] = []
        dups: list[str] = []
        ignored: list[str] = []
        for j, text in enumerate(row):
            if not text:
                continue
            norm = normalize_header(text)
            if answer is not None and norm in answer:
                if not answer[norm]:
                    ignored.append(text)
                    continue
                col = spec.column(answer[norm])
            else:
                col = index.get(norm)
            if col is None:
                unknown.append(text)
            elif col.key in mapped:
                dups.append(text)
            else:
                mapped[col.key] = j
        facts = any(spec.column(k).field for k in mapped)  # the file's own facts, not only join keys
        if len(mapped) >= spec.min_known and facts:
            if all(k in mapped for k in spec.required_keys):
                return i, mapped, unknown, dups, ignored
            if best is None or len(mapped) > len(best[1]):
                best = (i, mapped, unknown, dups, ignored)
    if best is not None:
        return best
    need = "、".join(f"“{spec.column(k).header}”" for k in spec.required_keys)
    raise DomainError(
        E_NO_HEADER, f"在前{HEADER_SCAN_ROWS}行中未找到{spec.title}的表头行：表头须包含{need}等列名"
    )


TOTAL_MARKS = {"合计", "总计", "小计", "全县合计", "全乡合计", "全镇合计"}


def table_from_rows(
    rows: list[list[str]],
    spec: FileKind,
    sheet: str = "",
    mappings: dict[str, dict[str, str]] | None = None,
) -> tuple[Table, list[int]]:
    """The table below the header, and the row numbers of the totals rows (合计/总计/小计 in one of the
    first columns) that were left out: they are the export's sums, not records (the import report lists them)."""
    h, mapped, unknown, dups, ignored = _find_header(rows, spec, mappings)
    width = len(rows[h])
    body: list[list[str]] = []
    numbers: list[int] = []
    totals: list[int] = []
    for n, r in enumerate(rows[h + 1 :], start=h + 2):
        if not any(r):
            continue
        if any(c.replace(" ", "") in TOTAL_MARKS for c in r[:6]):
            totals.append(n)
            continue
        body.append(r + [""] * (width - len(r)) if len(r) < width else r)
        numbers.append(n)
    if not body:
        raise DomainError(E_EMPTY, "表头下没有数据行")
    table = Table(
        headers=rows[h],
        rows=body,
        header_row=h + 1,
        row_numbers=numbers,
        sheet=sheet,
        columns=mapped,
        unknown_headers=unknown,
        duplicate_headers=dups,
        ignored_headers=ignored,
    )
    return table, totals


def missing_required(table: Table, spec: FileKind) -> list[str]:
    """Required column keys of ``spec`` no header of the table names (the mapping question asks for them)."""
    return [k for k in spec.required_keys if k not in table.columns]


def read_kind_table(
    data: bytes, file_name: str, spec: FileKind, mappings: dict[str, dict[str, str]] | None = None
) -> tuple[Table, list[int]]:
    sheet, rows = read_cells(data, file_name)
    return table_from_rows(rows, spec, sheet, mappings)


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def converter(col: KColumn) -> Callable[[str], tuple[Any, str]]:
    """cell text → (value, canonical spelling if the cell used another one, else "")."""
    if col.kind == "bool":

        def f(s: str) -> tuple[Any, str]:
            t = BOOL_SPELLINGS.get(_nfkc(s), _nfkc(s))
            v = conv_bool(t)
            canon = "是" if v else "否"
            return v, (canon if s != canon else "")

        return f
    if col.kind == "decimal":
        dec = conv_decimal(10, col.places)
        return lambda s: (dec(_nfkc(s)), "")
    if col.kind == "int":
        num = conv_int(10_000_000)
        return lambda s: (num(_nfkc(s)), "")
    if col.kind == "enum":
        allowed = col.choices
        aliases = {_nfkc(k): v for k, v in col.value_aliases.items()}

        def e(s: str) -> tuple[Any, str]:
            t = aliases.get(_nfkc(s), _nfkc(s))
            if t not in allowed:
                raise CellError("bad_enum", f"“{s}”不是有效值，可选值：{'、'.join(allowed)}")
            return t, (t if t != s else "")

        return e
    text = conv_text(col.max_len)
    return lambda s: (text(s), "")


@dataclass
class Cells:
    """The converted cells of a table: ``values[i][key]`` for every column present; rejects and the
    spellings mapped (column header → {as written: canonical} with counts)."""

    values: list[dict[str, Any]]
    rejects: list = dc_field(default_factory=list)
    mapped: dict[str, Counter] = dc_field(default_factory=lambda: defaultdict(Counter))


def convert_table(table: Table, spec: FileKind) -> Cells:
    from fangpin.core.errors import RowError

    out = Cells(values=[{} for _ in table.rows])
    for key, j in table.columns.items():
        col = spec.column(key)
        conv = converter(col)
        cache: dict[str, tuple[Any, str] | CellError] = {}
        for i, row in enumerate(table.rows):
            raw = row[j] if j < len(row) else ""
            if raw == "":
                if col.required:
                    out.rejects.append(
                        RowError(table.row_number(i), col.header, "必填项为空", "", E_REQUIRED)
                    )
                out.values[i][key] = None
                continue
            if raw not in cache:
                try:
                    cache[raw] = conv(raw)
                except CellError as e:
                    cache[raw] = e
            res = cache[raw]
            if isinstance(res, CellError):
                out.rejects.append(RowError(table.row_number(i), col.header, res.message, raw, res.code))
                out.values[i][key] = None
                continue
            value, canon = res
            out.values[i][key] = value
            if canon:
                out.mapped[col.header][f"{raw}→{canon}"] += 1
    return out


def not_stored_report(table: Table, spec: FileKind) -> list[str]:
    """The columns present in the file that are read but not stored, each with its reason."""
    return [
        f"{spec.column(k).header}：{spec.column(k).not_stored}"
        for k in table.columns
        if not spec.column(k).field and spec.column(k).not_stored
    ]


# --------------------------------------------------------------------------- export formats


def fmt(col: KColumn, v: Any) -> str:
    """A stored value as the national system writes it: 是/否, integers plain, numbers with 2 places."""
    if v is None or v == "":
        return ""
    if col.kind == "bool":
        return "是" if v else "否"
    if col.kind == "decimal":
        return f"{Decimal(v):.{col.places}f}"
    return str(v)
