"""Reading a department file into the canonical columns of its source spec.

Every cell is read as text (Excel turns long IDs into floats otherwise), the header row is detected
(departments put titles above it), columns are matched by header text with the spec's aliases, each
row is validated. A row with a bad value is reported (row, column, Chinese reason) and kept out of the
batch; a row whose ID is missing or unusable is *kept* with ``id_status`` so that linkage can try it
(an Excel-mangled ID such as 4.1E+17 is reported, never guessed).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from pypinyin import lazy_pinyin

from fangpin.core.errors import DomainError, RowError
from fangpin.core.ids import E_SCIENTIFIC, normalize_raw, validate_id_number

from .base import CHOICE, DATE, ID, INT, MONEY, SEX, SourceSpec

E_FORMAT = "screening_file_format"
E_NO_HEADER = "screening_no_header"
E_MISSING_COLUMN = "screening_missing_column"
E_EMPTY = "screening_empty_file"

ID_OK, ID_MISSING, ID_INVALID, ID_SCIENTIFIC = "ok", "missing", "invalid", "scientific"

_HEADER_SCAN_ROWS = 15
_SEX = {"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F", "男性": "M", "女性": "F"}
_DATE_PATTERNS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


@dataclass
class ParsedFile:
    rows: list[dict[str, Any]]
    errors: list[RowError] = field(default_factory=list)  # rows rejected
    warnings: list[RowError] = field(default_factory=list)  # rows kept (ID problems, upgrades)
    rows_total: int = 0
    header_row: int = 0
    mapping: dict[str, str] = field(default_factory=dict)  # canonical → header as found


def _norm_header(s: object) -> str:
    s = normalize_raw(s) if s is not None else ""
    s = re.sub(r"[（(][^）)]*[）)]$", "", s)  # trailing unit: 个人自付（元）
    return s.replace("*", "").strip()


@lru_cache(maxsize=50_000)
def _char_pinyin(ch: str) -> str:
    return "".join(lazy_pinyin(ch))


def name_pinyin(name: str) -> str:
    """Tone-less pinyin of a name, so that homophone characters (张伟/章伟) compare equal.

    Character by character (cached): the same character always gives the same syllable on both sides,
    which is what the comparison needs, and a million names take about a second."""
    return "".join(_char_pinyin(c) for c in name) if name else ""


def read_table(path: Path) -> list[list[str]]:
    """All cells as strings, first sheet for Excel."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            from python_calamine import CalamineWorkbook

            wb = CalamineWorkbook.from_path(str(path))
            sheet = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
            return [[_cell_text(c) for c in row] for row in sheet]
        if suffix in (".csv", ".txt"):
            raw = path.read_bytes()
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    text = raw.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise DomainError(E_FORMAT, "CSV文件编码无法识别（请使用UTF-8或GBK）")
            import csv
            import io

            return [list(r) for r in csv.reader(io.StringIO(text))]
        if suffix == ".parquet":
            df = pl.read_parquet(path)
            df = df.select(pl.all().cast(pl.String))
            return [list(df.columns)] + [["" if v is None else v for v in r] for r in df.iter_rows()]
    except DomainError:
        raise
    except Exception as exc:  # a broken file: report, do not crash the upload
        raise DomainError(E_FORMAT, f"无法读取文件：{exc}") from exc
    raise DomainError(E_FORMAT, f"不支持的文件类型“{suffix}”，请上传 Excel、CSV 或 Parquet 文件")


def _cell_text(c: object) -> str:
    if c is None:
        return ""
    if isinstance(c, float):
        # Excel stored a number: an 18-digit ID arrives as 4.10506198e17 and has lost its last digits.
        if c.is_integer() and abs(c) < 1e15:
            return str(int(c))
        return f"{c:.6E}".replace("E+", "E+")
    if isinstance(c, dt.datetime):
        return c.date().isoformat()
    if isinstance(c, dt.date):
        return c.isoformat()
    return str(c)


def _find_header(table: list[list[str]], spec: SourceSpec) -> tuple[int, dict[str, int], dict[str, str]]:
    want = {_norm_header(h): c.name for c in spec.columns for h in c.headers()}
    best = (-1, {}, {})
    for i, row in enumerate(table[:_HEADER_SCAN_ROWS]):
        idx: dict[str, int] = {}
        found: dict[str, str] = {}
        for j, cell in enumerate(row):
            canon = want.get(_norm_header(cell))
            if canon and canon not in idx:
                idx[canon] = j
                found[canon] = cell
        if len(idx) > len(best[1]):
            best = (i, idx, found)
    if len(best[1]) < 2:
        raise DomainError(E_NO_HEADER, "未找到表头行：请确认文件包含“证件号码、姓名”等列名")
    return best


def _parse_date(v: str) -> dt.date | None:
    v = v.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T].*", v):
        v = v[:10]
    for p in _DATE_PATTERNS:
        try:
            return dt.datetime.strptime(v, p).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{5}(\.0)?", v):  # Excel serial date
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(v)))
    return None


def parse_rows(
    table: list[list[str]],
    spec: SourceSpec,
    *,
    village_name: Callable[[str], str] | None = None,
    today: dt.date | None = None,
) -> ParsedFile:
    """Validate the rows of a table against the spec; see module docstring."""
    if not table:
        raise DomainError(E_EMPTY, "文件为空")
    h, idx, found = _find_header(table, spec)
    missing = [c for c in spec.columns if c.required and c.name not in idx]
    if missing:
        raise DomainError(
            E_MISSING_COLUMN,
            "缺少必需的列：" + "、".join(f"“{c.title}”" for c in missing),
            details={"missing": [c.name for c in missing]},
        )
    out = ParsedFile(rows=[], header_row=h + 1, mapping=found)
    for i, raw in enumerate(table[h + 1 :], start=h + 2):
        cells = {
            name: (raw[j].strip() if j < len(raw) and raw[j] is not None else "") for name, j in idx.items()
        }
        if not any(cells.values()):
            continue  # blank line
        out.rows_total += 1
        rec: dict[str, Any] = {"row_no": i}
        errs: list[RowError] = []
        for col in spec.columns:
            v = cells.get(col.name, "")
            if col.type == ID:
                _id_cell(rec, v, i, col.title, out.warnings, today)
                continue
            if not v:
                if col.required:
                    errs.append(RowError(i, col.title, f"“{col.title}”不能为空", v, "required"))
                rec[col.name] = None
                continue
            val, msg = _convert(col, v)
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


def _id_cell(rec: dict, v: str, row: int, title: str, warnings: list[RowError], today) -> None:
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
    chk = validate_id_number(v, today=today)
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


def _convert(col, v: str) -> tuple[Any, str]:
    if col.type == DATE:
        d = _parse_date(v)
        return (d, "") if d else (None, f"“{col.title}”不是有效日期：{v}")
    if col.type in (MONEY,):
        try:
            return float(v.replace(",", "").replace("元", "")), ""
        except ValueError:
            return None, f"“{col.title}”应为金额：{v}"
    if col.type == INT:
        v2 = col.choice_aliases.get(v, v)
        try:
            return int(float(v2)), ""
        except ValueError:
            return None, f"“{col.title}”应为整数：{v}"
    if col.type == SEX:
        s = _SEX.get(v)
        return (s, "") if s else (None, f"“{col.title}”应为男或女：{v}")
    if col.type == CHOICE:
        v2 = col.choice_aliases.get(v, v)
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
    data = {k: [] for k in schema}
    for r in rows:
        for k in schema:
            if k == "record_key":
                data[k].append((batch_id << 32) | r["row_no"])
            elif k == "batch_id":
                data[k].append(batch_id)
            else:
                data[k].append(r.get(k))
    return pl.DataFrame(data, schema=schema)
