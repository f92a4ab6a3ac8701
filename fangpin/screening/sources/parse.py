"""Reading a department file into the canonical columns of its source spec.

Every cell is read as text (Excel turns long IDs into floats otherwise), the header row is detected
(departments put titles above it), columns are matched by header text with the spec's aliases, each
row is validated. A row with a bad value is reported (row, column, Chinese reason) and kept out of the
batch; a row whose ID is missing or unusable is *kept* with ``id_status`` so that linkage can try it
(an Excel-mangled ID such as 4.1E+17 is reported, never guessed).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from pypinyin import lazy_pinyin

from fangpin.core.crypto import row_hash_key
from fangpin.core.errors import DomainError, RowError
from fangpin.core.ids import E_SCIENTIFIC, validate_id_number

from .base import CHOICE, DATE, ID, INT, MONEY, SEX, SourceSpec

E_FORMAT = "screening_file_format"
E_EMPTY = "screening_empty_file"
E_QUOTE = "screening_unbalanced_quote"
E_MAPPING_NEEDED = "screening_mapping_needed"

ID_OK, ID_MISSING, ID_INVALID, ID_SCIENTIFIC = "ok", "missing", "invalid", "scientific"

_HEADER_SCAN_ROWS = 15
_SEX = {"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F", "男性": "M", "女性": "F"}
_DATE_PATTERNS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
)


@dataclass
class ParsedFile:
    rows: list[dict[str, Any]]
    errors: list[RowError] = field(default_factory=list)  # rows rejected
    warnings: list[RowError] = field(default_factory=list)  # rows kept (ID problems, upgrades)
    rows_total: int = 0
    header_row: int = 0
    mapping: dict[str, str] = field(default_factory=dict)  # canonical → header as found (or how filled)


@dataclass
class Layout:
    """How a file's columns map onto a source spec (found by header text, aliases, a saved mapping)."""

    header_row: int  # 0-based index into the table
    headers: list[str]
    index: dict[str, int]  # canonical column → cell index
    fallback: dict[str, str] = field(default_factory=dict)  # canonical → canonical whose cell stands in
    implied: dict[str, str] = field(default_factory=dict)  # canonical → value the file's kind implies
    missing: list[str] = field(default_factory=list)  # required columns not resolved
    unmapped: list[str] = field(default_factory=list)  # headers used by no column
    id_unresolved: bool = False  # no ID column found while some header is unmapped: ask, never guess

    @property
    def needs_answer(self) -> bool:
        return bool(self.missing) or self.id_unresolved

    def mapping(self, spec: SourceSpec) -> dict[str, str]:
        out = {c: self.headers[j] for c, j in self.index.items()}
        for c, other in self.fallback.items():
            out[c] = f"{self.headers[self.index[other]]}（代替“{spec.column(c).title}”）"
        for c, v in self.implied.items():
            out[c] = f"={v}（按文件类型）"
        return out


NO_COLUMN = ""  # a saved mapping's value for "this layout has no such column" (an answered question)
_TOTAL_WORDS = ("合计", "总计", "小计", "总合计")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_MONEY_MAX = 100_000_000.0  # 一亿元: far above any single department amount, below 1e308
_INT_MAX = 1_000_000


def norm_header(s: object) -> str:
    """Header text as compared: NFKC, no blanks, half-width brackets, no '*', no trailing unit."""
    s = unicodedata.normalize("NFKC", "" if s is None else str(s))
    s = re.sub(r"\s+", "", s).replace("*", "").replace("＊", "")
    s = re.sub(r"\([^()]*\)$", "", s) if not s.startswith("(") else s  # trailing unit: 个人自付（元）
    return s


@lru_cache(maxsize=50_000)
def _char_pinyin(ch: str) -> str:
    return "".join(lazy_pinyin(ch))


def name_pinyin(name: str) -> str:
    """Tone-less pinyin of a name, so that homophone characters (张伟/章伟) compare equal.

    Character by character (cached): the same character always gives the same syllable on both sides,
    which is what the comparison needs, and a million names take about a second."""
    return "".join(_char_pinyin(c) for c in name) if name else ""


def read_table(path: Path, *, file_name: str = "") -> list[list[str]]:
    """All cells as strings, first sheet for Excel. ``file_name``: the name the user uploaded (messages)."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            from python_calamine import CalamineWorkbook

            wb = CalamineWorkbook.from_path(str(path))
            sheet = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
            return [[_cell_text(c) for c in row] for row in sheet]
        if suffix in (".csv", ".txt"):
            from fangpin.core.text import decode_text_file

            # UTF-8/UTF-16 (BOM or not)/GBK; refused naming the file and line (one decoder with the importer)
            return _read_csv(
                decode_text_file(path.read_bytes(), file_name or path.name), file_name or path.name
            )
        if suffix == ".parquet":
            df = pl.read_parquet(path)
            df = df.select(pl.all().cast(pl.String))
            return [list(df.columns)] + [["" if v is None else v for v in r] for r in df.iter_rows()]
    except DomainError:
        raise
    except Exception as exc:  # a broken file: report, do not crash the upload
        raise DomainError(E_FORMAT, f"无法读取文件：{exc}") from exc
    raise DomainError(E_FORMAT, f"不支持的文件类型“{suffix}”，请上传 Excel、CSV 或 Parquet 文件")


def _read_csv(text: str, filename: str) -> list[list[str]]:
    """CSV rows; a quote that swallows following lines (an unbalanced ") is an error, never lost rows."""
    import csv
    import io

    sample = text[:20_000]
    delim = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    out: list[list[str]] = []
    last_line = 0
    for rec in reader:
        first, last_line = last_line + 1, reader.line_num
        if last_line - first >= 1:
            for cell in rec:
                if "\n" in cell and delim in cell.split("\n", 1)[1]:
                    raise DomainError(
                        E_QUOTE,
                        f"文件“{filename}”第{first}行起引号不成对：第{first}至{last_line}行被读成了同一个单元格，"
                        f'这些行会丢失。请检查第{first}行中的英文双引号（"）后重新导出上传',
                        details={"row": first, "rows_swallowed": last_line - first},
                    )
        out.append(rec)
    return out


def _cell_text(c: object) -> str:
    if c is None:
        return ""
    if isinstance(c, float):
        # Excel stored a number: an 18-digit ID arrives as 4.10506198e17 and has lost its last digits.
        if math.isfinite(c) and c.is_integer() and abs(c) < 1e15:
            return str(int(c))
        if not math.isfinite(c):
            return str(c)
        return f"{c:.6E}"
    if isinstance(c, dt.datetime):
        return c.date().isoformat()
    if isinstance(c, dt.date):
        return c.isoformat()
    return str(c)


def _wanted(spec: SourceSpec, saved: dict[str, str] | None) -> dict[str, list[str]]:
    """Per canonical column, the header spellings it accepts, best first (a saved mapping first)."""
    out: dict[str, list[str]] = {}
    for c in spec.columns:
        hs = [norm_header(h) for h in c.headers()]
        if saved and saved.get(c.name):
            hs = [norm_header(saved[c.name]), *hs]
        out[c.name] = list(dict.fromkeys(h for h in hs if h))
    return out


def resolve_layout(table: list[list[str]], spec: SourceSpec, saved: dict[str, str] | None = None) -> Layout:
    """Header row and column of every canonical column (see module docstring). Raises only when no
    header row is recognisable at all; unresolved required columns are reported on the layout."""
    saved = dict(saved or {})
    want = _wanted(spec, saved)
    best: tuple[int, int, dict[str, int]] = (-1, 0, {})
    for i, row in enumerate(table[:_HEADER_SCAN_ROWS]):
        cells = [norm_header(c) for c in row]
        idx: dict[str, int] = {}
        taken: set[int] = set()
        # a saved header first, then each column's best spelling (title before aliases)
        for name, hs in sorted(want.items(), key=lambda kv: 0 if saved.get(kv[0]) else 1):
            for h in hs:
                j = next((j for j, c in enumerate(cells) if c == h and j not in taken), None)
                if j is not None:
                    idx[name] = j
                    taken.add(j)
                    break
        if len(idx) > best[1]:
            best = (i, len(idx), idx)
    h, _n, idx = best
    if h < 0 or len(idx) < 2:
        raise DomainError(
            E_MAPPING_NEEDED,
            f"未识别表头行：前{_HEADER_SCAN_ROWS}行中没有“{spec.title}”的列名（如“证件号码、姓名”）。"
            "请指定文件中各列的表头（保存后本部门下次上传自动沿用）",
            details={"rows": [list(r) for r in table[:5]], "missing": [c.name for c in spec.columns if c.required],
                     "header_row": None},
        )  # fmt: skip
    headers = [str(c or "").strip() for c in table[h]]
    present = {norm_header(c) for c in headers}
    lay = Layout(header_row=h, headers=headers, index=idx)
    for c in spec.columns:
        if c.name in idx or saved.get(c.name) == NO_COLUMN and c.name in saved:
            continue
        other = next((o for o in c.fallback if o in idx), None)
        if other:
            lay.fallback[c.name] = other
    for imp in spec.implied:
        if imp.column not in idx and imp.column not in lay.implied and norm_header(imp.header) in present:
            lay.implied[imp.column] = imp.value
    used = set(idx.values())
    lay.unmapped = [
        hd for j, hd in enumerate(headers) if hd and j not in used and norm_header(hd) not in ("序号", "编号")
    ]
    lay.missing = [
        c.name for c in spec.columns
        if c.required and c.name not in idx and c.name not in lay.fallback and c.name not in lay.implied
    ]  # fmt: skip
    lay.id_unresolved = "id_number" not in idx and "id_number" not in saved and bool(lay.unmapped)
    return lay


def mapping_question(spec: SourceSpec, lay: Layout) -> str:
    """The one question a user answers when the headers are not recognised (Chinese, names the columns)."""
    parts = []
    if lay.missing:
        parts.append("未识别必需的列：" + "、".join(f"“{spec.column(c).title}”" for c in lay.missing))
    if lay.id_unresolved:
        parts.append("未识别证件号码列（若文件确无证件号码，请指定为“无”）")
    cols = "、".join(f"“{h}”" for h in lay.unmapped) or "无"
    return "；".join(parts) + f"。文件中未使用的列：{cols}。请指定对应关系（保存后本部门下次上传自动沿用）"


def parse_rows(
    table: list[list[str]],
    spec: SourceSpec,
    *,
    village_name: Callable[[str], str] | None = None,
    today: dt.date,
    saved: dict[str, str] | None = None,
    filename: str = "",
) -> ParsedFile:
    """Validate the rows of a table against the spec; see module docstring. A layout that needs an
    answer raises ``E_MAPPING_NEEDED`` (details: the question and a preview of the first rows)."""
    if not table:
        raise DomainError(E_EMPTY, "文件为空")
    lay = resolve_layout(table, spec, saved)
    if lay.needs_answer:
        raise DomainError(
            E_MAPPING_NEEDED,
            (f"文件“{filename}”" if filename else "") + mapping_question(spec, lay),
            details={"missing": lay.missing, "id_unresolved": lay.id_unresolved, "unmapped": lay.unmapped,
                     "header_row": lay.header_row + 1, "mapping": lay.mapping(spec)},
        )  # fmt: skip
    return _parse(table, spec, lay, village_name=village_name, today=today)


def _parse(table, spec: SourceSpec, lay: Layout, *, village_name, today: dt.date, limit: int | None = None):
    h = lay.header_row
    src = dict(lay.index)
    for c, other in lay.fallback.items():
        src[c] = lay.index[other]
    out = ParsedFile(rows=[], header_row=h + 1, mapping=lay.mapping(spec))
    for hd in lay.unmapped:
        out.warnings.append(RowError(h + 1, hd, f"列“{hd}”与本类数据无关，未入库", "", "column_unused"))
    for i, raw in enumerate(table[h + 1 :], start=h + 2):
        if limit is not None and out.rows_total >= limit:
            break
        cells = {
            name: (raw[j].strip() if j < len(raw) and raw[j] is not None else "") for name, j in src.items()
        }
        if not any(cells.values()):
            continue  # blank line
        out.rows_total += 1
        first = next((str(c).strip() for c in raw if c and str(c).strip()), "")
        if first.replace(" ", "") in _TOTAL_WORDS or cells.get("name", "").replace(" ", "") in _TOTAL_WORDS:
            out.warnings.append(RowError(i, "", "合计行，未入库", first, "total_row"))
            continue
        for name, v in lay.implied.items():
            cells[name] = v
        rec: dict[str, Any] = {"row_no": i}
        errs: list[RowError] = []
        for col in spec.columns:
            v = cells.get(col.name, "")
            if v and _CONTROL.search(v):
                errs.append(
                    RowError(
                        i,
                        col.title,
                        f"“{col.title}”含有控制字符或不可见的方向控制符",
                        repr(v)[:60],
                        "control",
                    )
                )
                continue
            if col.type == ID:
                _id_cell(rec, v, i, col.title, out.warnings, today)
                continue
            if not v:
                if col.required:
                    errs.append(RowError(i, col.title, f"“{col.title}”不能为空", v, "required"))
                rec[col.name] = None
                continue
            val, msg = _convert(col, v, today)
            if msg:
                errs.append(RowError(i, col.title, msg, v, "value"))
            rec[col.name] = val
        if errs:
            out.errors.extend(errs)
            continue
        _fill_person(rec, village_name)
        rec["event_date"] = rec.get(spec.event_date)
        out.rows.append(rec)
    return out


def mapping_preview(
    table: list[list[str]],
    spec: SourceSpec,
    *,
    saved: dict[str, str] | None = None,
    today: dt.date,
    rows: int = 5,
) -> dict[str, Any]:
    """What the mapping step shows: the header row, each column's source, the question (if any) and the
    first rows as they would be parsed (or, while a required column is unresolved, as they are)."""
    if not table:
        raise DomainError(E_EMPTY, "文件为空")
    try:
        lay = resolve_layout(table, spec, saved)
    except DomainError as exc:
        if exc.code != E_MAPPING_NEEDED:
            raise
        return {"header_row": None, "headers": [], "unmapped": [], "needs_answer": True, "question": exc.message,
                "columns": [{"name": c.name, "title": c.title, "required": c.required, "source": ""}
                            for c in spec.columns],
                "raw": exc.details["rows"], "parsed": [], "errors": []}  # fmt: skip
    out: dict[str, Any] = {
        "header_row": lay.header_row + 1,
        "headers": [h for h in lay.headers if h],
        "columns": [
            {
                "name": c.name,
                "title": c.title,
                "required": c.required,
                "source": lay.mapping(spec).get(c.name, ""),
            }
            for c in spec.columns
        ],  # fmt: skip
        "unmapped": lay.unmapped,
        "needs_answer": lay.needs_answer,
        "question": mapping_question(spec, lay) if lay.needs_answer else "",
        "raw": [r for r in table[lay.header_row + 1 : lay.header_row + 1 + rows]],
        "parsed": [],
        "errors": [],
    }
    if not lay.missing:
        p = _parse(table, spec, lay, village_name=None, today=today, limit=rows)
        out["parsed"] = [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()
                          if k != "name_pinyin"} for r in p.rows]  # fmt: skip
        out["errors"] = [e.__dict__ for e in p.errors]
    out["shown"] = _preview_shown(out["parsed"], spec)
    return out


# the preview's parsed rows as the browser shows them: every column under its Chinese title, the ID check and
# 性别 in words (the API and the CLI keep the field names and codes)
_DERIVED_TITLES = {
    "row_no": "行号",
    "id_raw": "证件号码（原样）",
    "id_number": "证件号码（校验后）",
    "id_status": "证件号码校验",
    "event_date": "事件日期",
}
_VALUE_TITLES = {
    "id_status": {
        ID_OK: "有效",
        ID_MISSING: "缺失",
        ID_INVALID: "校验不通过",
        ID_SCIENTIFIC: "被改写为科学计数法",
    },
    "sex": {"M": "男", "F": "女"},
}


def _preview_shown(parsed: list[dict[str, Any]], spec: SourceSpec) -> dict[str, list]:
    if not parsed:
        return {"titles": [], "rows": []}
    titles = {**_DERIVED_TITLES, **{c.name: c.title for c in spec.columns}}
    keys = list(parsed[0])
    return {
        "titles": [titles.get(k, k) for k in keys],
        "rows": [[_VALUE_TITLES.get(k, {}).get(r.get(k), r.get(k)) for k in keys] for r in parsed],
    }


def _parse_date(v: str) -> dt.date | None:
    v = unicodedata.normalize("NFKC", v).strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}[ T].*", v):
        v = v.split(" ")[0].split("T")[0]
    for p in _DATE_PATTERNS:
        try:
            return dt.datetime.strptime(v, p).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{5}(\.0)?", v):  # Excel serial date
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(v)))
    return None


def _id_cell(rec: dict, v: str, row: int, title: str, warnings: list[RowError], today) -> None:
    """Every ID that is missing, mistyped or mangled is kept (id_status) and sent to linkage."""
    rec["id_raw"] = v
    rec["id_number"] = None
    rec["_id_birth"] = None
    rec["_id_sex"] = None
    if not v:
        rec["id_status"] = ID_MISSING
        warnings.append(
            RowError(row, title, "证件号码为空，将按姓名、出生日期、性别、村进行匹配", v, "id_missing")
        )
        return
    chk = validate_id_number(v, on=today)
    if chk.ok:
        rec["id_status"] = ID_OK
        rec["id_number"] = chk.normalized
        rec["_id_birth"] = chk.birth_date
        rec["_id_sex"] = chk.gender
        for code, msg in chk.warnings:
            if code != "id_area_unknown":
                warnings.append(RowError(row, title, msg, v, code))
        return
    code, msg = chk.errors[0]
    if code == E_SCIENTIFIC[0]:
        rec["id_status"] = ID_SCIENTIFIC
    else:
        rec["id_status"] = ID_INVALID
    warnings.append(RowError(row, title, f"{msg}；将按姓名、出生日期、性别、村进行匹配", v, code))


def _number(v: str) -> float | None:
    s = unicodedata.normalize("NFKC", v).replace(",", "").replace("元", "").replace("¥", "").strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
        return None  # also refuses nan / inf / Infinity
    try:
        x = float(s)
    except (ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def _convert(col, v: str, today: dt.date) -> tuple[Any, str]:
    if col.type == DATE:
        d = _parse_date(v)
        if d is None:
            return None, f"“{col.title}”不是有效日期：{v}"
        if d > today:
            return None, f"“{col.title}”{d.isoformat()}晚于今天（{today.isoformat()}），请核对"
        if d.year < 1900:
            return None, f"“{col.title}”{d.isoformat()}早于1900年，请核对"
        return d, ""
    if col.type == MONEY:
        x = _number(v)
        if x is None:
            return None, f"“{col.title}”应为金额：{v}"
        lo = 0.0 if col.min_value is None else col.min_value
        hi = _MONEY_MAX if col.max_value is None else col.max_value
        if x < lo:
            return None, f"“{col.title}”不能为负数：{v}（冲销、退费请在原结算中扣除后上传）"
        if x > hi:
            return None, f"“{col.title}”金额{v}超出合理范围（不超过{hi:,.0f}元），请核对"
        return round(x, 2), ""
    if col.type == INT:
        v2 = col.choice_aliases.get(v, v)
        x = _number(v2)
        if x is None or not x.is_integer():
            return None, f"“{col.title}”应为整数：{v}"
        lo = 0 if col.min_value is None else col.min_value
        hi = _INT_MAX if col.max_value is None else col.max_value
        if not lo <= x <= hi:
            return None, f"“{col.title}”的值{v}超出范围（{lo:g}至{hi:g}）"
        return int(x), ""
    if col.type == SEX:
        s = _SEX.get(v)
        return (s, "") if s else (None, f"“{col.title}”应为男或女：{v}")
    if col.type == CHOICE:
        v2 = col.choice_aliases.get(v, col.choice_aliases.get(norm_header(v), v))
        if v2 not in col.choices:
            return None, f"“{col.title}”的值“{v}”不在允许范围内（{'、'.join(col.choices)}）"
        return v2, ""
    return v, ""


def _fill_person(rec: dict, village_name: Callable[[str], str] | None) -> None:
    """Birth date and sex from the ID when the file leaves them out; village as a name."""
    if rec.get("birth_date") is None:
        rec["birth_date"] = rec.get("_id_birth")
    if rec.get("sex") is None:
        rec["sex"] = rec.get("_id_sex")
    rec.pop("_id_birth", None)
    rec.pop("_id_sex", None)
    v = rec.get("village") or ""
    if village_name and re.fullmatch(r"\d{12}", v):
        v = village_name(v) or v
    rec["village"] = v or None
    rec["name"] = (rec.get("name") or "").replace(" ", "").replace("\u3000", "")
    rec["name_pinyin"] = name_pinyin(rec["name"])


def to_frame(rows: list[dict[str, Any]], spec: SourceSpec, *, batch_id: int) -> pl.DataFrame:
    """Canonical typed frame of accepted rows, as stored in the batch Parquet file."""
    schema: dict[str, Any] = {
        "record_key": pl.Int64,
        "batch_id": pl.Int64,
        "row_no": pl.Int64,
        "id_number": pl.String,
        "id_raw": pl.String,
        "id_status": pl.String,
        "name": pl.String,
        "name_pinyin": pl.String,
        "birth_date": pl.Date,
        "sex": pl.String,
        "village": pl.String,
        "event_date": pl.Date,
    }
    types = {DATE: pl.Date, MONEY: pl.Float64, INT: pl.Int64}
    for c in spec.value_columns:
        schema[c.name] = types.get(c.type, pl.String)
    schema["row_hash"] = pl.Int64
    content = [k for k in schema if k not in ("record_key", "batch_id", "row_no", "row_hash", "name_pinyin")]
    data = {k: [] for k in schema}
    key = row_hash_key()
    for r in rows:
        for k in schema:
            if k == "record_key":
                data[k].append((batch_id << 32) | r["row_no"])
            elif k == "batch_id":
                data[k].append(batch_id)
            elif k == "row_hash":
                data[k].append(row_hash([r.get(c) for c in content], key=key))
            else:
                data[k].append(r.get(k))
    return pl.DataFrame(data, schema=schema)


def row_hash(values: list[Any], *, key: bytes = b"") -> int:
    """A stable 63-bit fingerprint of a record's content (not its row number): a corrected version of a
    file that repeats a record already screened carries the same fingerprint, so it is not screened again.
    Keyed (``core.crypto.row_hash_key``) for batch files: the record holds an ID whose other fields are in
    the same file, and an unkeyed hash could be checked against the few IDs a county and birth date leave."""
    import hashlib

    text = "\x1f".join(
        "" if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v)) for v in values
    )
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8, key=key).digest(), "big") >> 1
