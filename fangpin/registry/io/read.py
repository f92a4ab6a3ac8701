"""Reading a national export (xlsx or CSV) into text cells, with the header row found and columns mapped.

Every cell comes back as text: ID numbers must never become floats. xlsx is read with python-calamine
(13-19x faster than openpyxl read_only, performance-anchors §B); a numeric cell is turned into text here,
and a number that Excel stored with lost precision (an 18-digit ID typed into a number cell) is rendered
as ``4.10506198001011E+17`` so the ID validator reports it as such instead of a wrong checksum.
CSV: UTF-8 (with or without BOM), else GB18030 (a superset of GBK).

An xlsx sheet is kept column by column (``Table.column_values`` is then free) and turned into text per
column and per *distinct* value: a column of plain text cells that need no stripping is taken as calamine
returned it, the others go through ``cell_text`` once per distinct value (``set(map(type, col))`` decides
which path a column takes), so the ~10M cells of a 100k-person file are never visited one by one in Python.
Rows are only materialised for the reject report. (fastexcel's Arrow string mode would skip even the
Python objects, but it formats numbers itself — ``{x:.9}``, ``true`` — and would lose the cell types that
make a number-typed ID show as ``4.10506198001011E+17``.)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from fangpin.core.errors import DomainError

from .columns import REQUIRED_KEYS, Column, match_header

E_FORMAT = "file_format"
E_CORRUPT = "file_corrupt"
E_NO_HEADER = "no_header"
E_EMPTY = "file_empty"
E_TOO_MANY = "too_many_rows"

HEADER_SCAN_ROWS = 20
MIN_KNOWN_HEADERS = 4
MAX_ROWS = 1_048_576
MAX_ZIP_ENTRIES = 1000
MAX_UNCOMPRESSED = 1_500_000_000  # bytes declared in the xlsx zip directory
_FORMULA_QUOTE = ("'=", "'+", "'-", "'@", "'\t", "'\r")


class _RowView(Sequence):
    """The rows of a column-stored table, built on demand (the reject report); ``len`` is free."""

    def __init__(self, cols: list[list[str]], n: int) -> None:
        self._cols = cols
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):  # noqa: ANN001  (int or slice, as a list)
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        return [c[i] for c in self._cols]

    def __iter__(self) -> Iterator[list[str]]:
        if not self._cols:
            return iter([[] for _ in range(self._n)])
        return (list(r) for r in zip(*self._cols, strict=True))


@dataclass
class Table:
    """A sheet as text: ``header_row`` is the 1-based row number of the header as the user sees it.

    Stored either as rows (CSV: rows may be ragged) or, from xlsx, as columns (``cols``, one list per
    header position); ``rows`` is then a view that builds a row when asked."""

    headers: list[str]
    rows: Sequence[list[str]]
    header_row: int
    row_numbers: list[int] = field(default_factory=list)  # as the user sees them, one per row
    sheet: str = ""
    columns: dict[str, int] = field(default_factory=dict)  # column key → index in a row
    unknown_headers: list[str] = field(default_factory=list)
    duplicate_headers: list[str] = field(default_factory=list)
    cols: list[list[str]] | None = None
    ignored_headers: list[str] = field(default_factory=list)  # answered "not stored" (or 序号)

    @property
    def missing_required(self) -> list[str]:
        """Required column keys no header names (the mapping question must name them)."""
        return [k for k in REQUIRED_KEYS if k not in self.columns]

    @property
    def needs_mapping(self) -> bool:
        return bool(self.unknown_headers or self.missing_required)

    @property
    def signature(self) -> str:
        return header_signature(self.headers)

    def row_number(self, i: int) -> int:
        """The row number the user sees in Excel for data row i (0-based)."""
        return self.row_numbers[i]

    def column_values(self, key: str) -> list[str]:
        j = self.columns.get(key)
        if j is None:
            return [""] * len(self.rows)
        if self.cols is not None:
            return list(self.cols[j]) if j < len(self.cols) else [""] * len(self.rows)
        return [r[j] if j < len(r) else "" for r in self.rows]


def cell_text(v: object) -> str:
    """One cell as the text the user typed (see module docstring)."""
    if v is None:
        return ""
    if isinstance(v, str):
        s = v.strip()
        # Our own exports neutralise formulas with a leading quote: undo that on the way back in.
        return s[1:] if s.startswith(_FORMULA_QUOTE) else s
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        if v.is_integer():
            if abs(v) < 1e15:
                return str(int(v))
            return f"{v:.15G}"  # beyond float precision: keep the scientific form visible
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _check_xlsx_container(data: bytes) -> None:
    """Zip sanity before parsing (security VAL-06): entry count and declared size caps, no macros."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        raise DomainError(E_CORRUPT, "文件已损坏或不是有效的Excel（xlsx）文件") from None
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise DomainError(E_CORRUPT, "Excel文件结构异常（压缩内容过大），已拒绝")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise DomainError(E_CORRUPT, "文件已损坏或不是有效的Excel（xlsx）文件")
    if any(n.endswith("vbaProject.bin") or n.startswith("/") or ".." in n for n in names):
        raise DomainError(E_CORRUPT, "Excel文件含宏或异常路径，已拒绝")


_PLAIN_KEYS = frozenset({str, float, type(None)})  # types whose values never compare equal across types


# A text cell that cell_text would change: blanks at either end, or a leading quote (formula neutralisation).
# Searched once over a whole column joined by NUL, so a clean column is never hashed or visited per cell;
# a false positive (a NUL inside a cell) only sends the column down the exact per-value path.
_NEEDS_CLEANING = re.compile(r"(?:^|\x00)(?:\s|')|\s(?:\x00|$)")
_ANY_BLANK_OR_QUOTE = re.compile(r"[\s']")  # a plain character class scans ~5x faster: tried first


def _text_column(col: Sequence[object]) -> list[str]:
    """One column of calamine values → ``cell_text`` of each, computed once per distinct value."""
    try:
        joined = "\x00".join(col)  # type: ignore[arg-type]  # raises TypeError unless all are text
    except TypeError:
        types = set(map(type, col))
        if types <= _PLAIN_KEYS:  # 1 == 1.0 == True: bool/int/dates are never used as shared keys
            try:
                return list(map({v: cell_text(v) for v in set(col)}.__getitem__, col))
            except KeyError:  # a NaN is not equal to itself
                pass
        return [cell_text(v) for v in col]
    if not _ANY_BLANK_OR_QUOTE.search(joined) or not _NEEDS_CLEANING.search(joined):
        return list(col)  # type: ignore[arg-type]
    changed = {v: cell_text(v) for v in set(col) if v.startswith("'") or v != v.strip()}  # type: ignore[union-attr]
    get = changed.get
    return [get(v, v) for v in col]  # type: ignore[misc]


def _read_xlsx(data: bytes) -> tuple[str, list[list[str]], int]:
    """The first sheet as text columns of equal length (calamine pads the used range), and the row count."""
    from python_calamine import CalamineWorkbook

    _check_xlsx_container(data)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        name = wb.sheet_names[0]
        sheet = wb.get_sheet_by_index(0)
        raw = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise DomainError(E_CORRUPT, f"无法读取Excel文件：{exc.__class__.__name__}") from None
    if len(raw) > MAX_ROWS:
        raise DomainError(E_TOO_MANY, f"数据行数超过上限{MAX_ROWS}行")
    n = len(raw)
    width = max(map(len, raw), default=0)
    if any(len(r) != width for r in raw):  # not seen from calamine; pad to keep the columns aligned
        raw = [r + [""] * (width - len(r)) for r in raw]
    cols = [_text_column(c) for c in zip(*raw, strict=True)] if n else []
    del raw
    return name, cols, n


def _decode_csv(data: bytes, file_name: str = "") -> str:
    """UTF-8 (BOM or not), UTF-16 (BOM or not), GBK/GB18030; refused naming file and line (core.text)."""
    from fangpin.core.text import decode_text_file

    return decode_text_file(data, file_name)


def _read_csv(data: bytes, file_name: str = "") -> list[list[str]]:
    text = _decode_csv(data, file_name)
    if "\x00" in text[:4096]:
        raise DomainError(E_FORMAT, "不是有效的CSV文本文件")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return [[cell_text(v) for v in row] for row in reader]
    except csv.Error as exc:  # e.g. a bare carriage return inside an unquoted field
        raise DomainError(
            E_FORMAT,
            f"CSV文件第{reader.line_num}行格式错误（引号未闭合或字段中有换行符），请检查后另存为CSV再导入",
        ) from exc


def sniff_kind(data: bytes, file_name: str) -> str:
    """'xlsx' or 'csv' from the bytes (magic numbers), not only from the name."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DomainError(E_FORMAT, "不支持旧版Excel（.xls）文件，请在Excel中另存为.xlsx后再导入")
    suffix = Path(file_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        raise DomainError(E_CORRUPT, "文件已损坏或不是有效的Excel（xlsx）文件")
    if suffix in (".csv", ".txt", ""):
        return "csv"
    raise DomainError(E_FORMAT, f"不支持的文件类型“{suffix}”，请上传.xlsx或.csv文件")


# Headers of the 监测对象信息 layout that carry no data of their own: known, read, never asked about.
KNOWN_NOT_STORED = {"序号": "行序号，导出时重新编号", "行号": "行序号，导出时重新编号"}

HeaderMapping = dict[str, str]  # normalize_header(file header) → column key, or "" = not stored


def header_signature(headers: Sequence[str]) -> str:
    """The identity of a header layout: its non-empty headers as compared (normalised), in any order.
    A saved column mapping (``ImportMapping``) is reused for the next file with the same signature."""
    import hashlib

    from .columns import normalize_header

    names = sorted({normalize_header(h) for h in headers if normalize_header(h)})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def _map_row(row: list[str], mapping: HeaderMapping | None):
    from .columns import BY_KEY, normalize_header

    mapped: dict[str, int] = {}
    unknown: list[str] = []
    dups: list[str] = []
    ignored: list[str] = []
    for j, text in enumerate(row):
        if not text:
            continue
        norm = normalize_header(text)
        col: Column | None
        if mapping is not None and norm in mapping:
            key = mapping[norm]
            if not key:
                ignored.append(text)
                continue
            col = BY_KEY[key]
        elif norm in KNOWN_NOT_STORED:
            ignored.append(text)
            continue
        else:
            col = match_header(text)
        if col is None:
            unknown.append(text)
        elif col.key in mapped:
            dups.append(text)
        else:
            mapped[col.key] = j
    return mapped, unknown, dups, ignored


def find_header(
    rows: list[list[str]], mapping: HeaderMapping | None = None
) -> tuple[int, dict[str, int], list[str], list[str], list[str]]:
    """The first row (within the first 20) that names enough known columns, and the mapping:
    (row index, column key → position, unknown headers, duplicate headers, headers read as not stored).

    ``mapping`` is a saved answer to the mapping question (file header → column or "" = not stored). When
    no row names every required column, the row naming the most known columns (at least 3) is taken as the
    header row anyway so that the mapping question can be asked (``Table.missing_required`` says what is
    missing); a file with no such row is not a 监测对象信息 export at all."""
    best = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapped, unknown, dups, ignored = _map_row(row, mapping)
        if len(mapped) >= MIN_KNOWN_HEADERS and all(k in mapped for k in REQUIRED_KEYS):
            return i, mapped, unknown, dups, ignored
        if len(mapped) >= MIN_KNOWN_HEADERS - 1 and (best is None or len(mapped) > len(best[1])):
            best = (i, mapped, unknown, dups, ignored)
    if best is not None:
        return best
    raise DomainError(
        E_NO_HEADER,
        f"在前{HEADER_SCAN_ROWS}行中未找到表头行：表头须包含“户编号”“证件号码”“姓名”等国家系统导出列名",
    )


def read_table(data: bytes, file_name: str, *, mappings: dict[str, HeaderMapping] | None = None) -> Table:
    """Bytes of an upload → a ``Table``. Raises DomainError (Chinese message) for unreadable files.

    ``mappings``: saved answers to the mapping question by ``header_signature``; the first of the top
    rows whose signature has one is read with it."""
    if not data:
        raise DomainError(E_EMPTY, "文件为空")
    kind = sniff_kind(data, file_name)
    if kind == "xlsx":
        sheet, cols, n = _read_xlsx(data)
        if not n:
            raise DomainError(E_EMPTY, "文件中没有数据")
        return _table_from_columns(sheet, cols, n, mappings)
    rows = _read_csv(data, file_name)
    if not rows:
        raise DomainError(E_EMPTY, "文件中没有数据")
    return table_from_rows(rows, mappings)


def table_from_rows(rows: list[list[str]], mappings: dict[str, HeaderMapping] | None = None) -> Table:
    """Rows of text cells (a CSV, or the head of any file) → a ``Table``, same header search."""
    h, mapped, unknown, dups, ignored = find_header(rows, _saved_for(rows, mappings))
    width = len(rows[h])
    body: list[list[str]] = []
    numbers: list[int] = []
    for n, r in enumerate(rows[h + 1 :], start=h + 2):
        if any(r):  # blank rows are skipped; the others keep the row number Excel shows
            body.append(r + [""] * (width - len(r)) if len(r) < width else r)
            numbers.append(n)
    t = Table(
        headers=rows[h],
        rows=body,
        header_row=h + 1,
        row_numbers=numbers,
        sheet="",
        columns=mapped,
        unknown_headers=unknown,
        duplicate_headers=dups,
        ignored_headers=ignored,
    )
    if not t.rows:
        raise DomainError(E_EMPTY, "表头下没有数据行")
    return t


def _saved_for(rows: list[list[str]], mappings: dict[str, HeaderMapping] | None) -> HeaderMapping | None:
    """The saved mapping of the first top row whose header signature has one."""
    if not mappings:
        return None
    for row in rows[:HEADER_SCAN_ROWS]:
        if any(row):
            m = mappings.get(header_signature(row))
            if m is not None:
                return m
    return None


def _table_from_columns(
    sheet: str, cols: list[list[str]], n: int, mappings: dict[str, HeaderMapping] | None = None
) -> Table:
    """The column-stored twin of the CSV path above: same header search, same blank-row rule."""
    top = [[c[i] for c in cols] for i in range(min(n, HEADER_SCAN_ROWS))]
    h, mapped, unknown, dups, ignored = find_header(top, _saved_for(top, mappings))
    # Data rows that are not blank (any non-empty cell); their Excel row numbers. A column with no empty
    # cell below the header (户编号 usually) proves there is none, without visiting the rows.
    if any("" not in c[h + 1 :] for c in cols):
        keep = list(range(h + 1, n))
    else:
        keep = [i for i, r in enumerate(zip(*cols, strict=True)) if i > h and any(r)] if cols else []
    if not keep:
        raise DomainError(E_EMPTY, "表头下没有数据行")
    if len(keep) == n - h - 1:  # no blank rows: slices, no per-row gathering
        body = [c[h + 1 :] for c in cols]
    elif len(keep) == 1:
        body = [[c[keep[0]]] for c in cols]
    else:
        pick = itemgetter(*keep)
        body = [list(pick(c)) for c in cols]
    return Table(
        headers=top[h],
        rows=_RowView(body, len(keep)),
        header_row=h + 1,
        row_numbers=[i + 1 for i in keep],
        sheet=sheet,
        columns=mapped,
        unknown_headers=unknown,
        duplicate_headers=dups,
        cols=body,
        ignored_headers=ignored,
    )


def read_cells(data: bytes, file_name: str, *, max_rows: int | None = None) -> tuple[str, list[list[str]]]:
    """Bytes of an upload → (sheet name, its rows as text cells; the first ``max_rows`` only if given),
    with the same format checks as ``read_table`` but no header detection: the other national files
    (registry/io/kinds) find their own. Small files; the 监测对象信息 path stays on ``read_table``."""
    import itertools

    if not data:
        raise DomainError(E_EMPTY, "文件为空")
    limit = MAX_ROWS + 1 if max_rows is None else max_rows
    if sniff_kind(data, file_name) == "xlsx":
        from python_calamine import CalamineWorkbook

        _check_xlsx_container(data)
        try:
            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            name, sheet = wb.sheet_names[0], wb.get_sheet_by_index(0)
            rows = [[cell_text(v) for v in row] for row in itertools.islice(sheet.iter_rows(), limit)]
        except Exception as exc:  # calamine raises its own error types for broken files
            raise DomainError(E_CORRUPT, f"无法读取Excel文件：{exc.__class__.__name__}") from None
    else:
        text = _decode_csv(data, file_name)
        if "\x00" in text[:4096]:
            raise DomainError(E_FORMAT, "不是有效的CSV文本文件")
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        name = ""
        reader = csv.reader(io.StringIO(text), dialect)
        try:
            rows = [[cell_text(v) for v in row] for row in itertools.islice(reader, limit)]
        except csv.Error as exc:  # e.g. a bare carriage return inside an unquoted field
            raise DomainError(
                E_FORMAT,
                f"CSV文件第{reader.line_num}行格式错误（引号未闭合或字段中有换行符），请检查后另存为CSV再导入",
            ) from exc
    if len(rows) > MAX_ROWS:
        raise DomainError(E_TOO_MANY, f"数据行数超过上限{MAX_ROWS}行")
    if not rows:
        raise DomainError(E_EMPTY, "文件中没有数据")
    return name, rows


def read_head(data: bytes, file_name: str, n: int = HEADER_SCAN_ROWS) -> list[list[str]]:
    """The first ``n`` rows as text cells (to tell which national file an upload is, without turning
    every cell of a large sheet into text)."""
    return read_cells(data, file_name, max_rows=n)[1]
