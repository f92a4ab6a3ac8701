"""Writing spreadsheets safely: every text cell a string cell, formulas neutralised (tables streamed as
SpreadsheetML by ``write_xlsx``; laid-out reports through openpyxl, ``new_workbook``).

Security VAL-05: a text cell starting with = + - @, tab, CR or NUL gets a leading ' so Excel never
evaluates it; ID numbers and phones are always text cells (never 4.10506E+17). The importer strips that
quote again (io.read.cell_text), so a neutralised export round-trips.
"""

from __future__ import annotations

import csv
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\x00")
# A text safe_text leaves as it is and the XML escapes do not change: not empty, no leading _DANGEROUS
# character, none of openpyxl's ILLEGAL_CHARACTERS_RE ([\000-\010], [\013-\014], [\016-\037]) nor & < >.
_PLAIN_TEXT = re.compile(r"[^=+\-@\t\r\x00-\x08\x0b\x0c\x0e-\x1f&<>][^\x00-\x08\x0b\x0c\x0e-\x1f&<>]*", re.S)
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_text(value: Any) -> str:
    s = "" if value is None else str(value)
    if not s:
        return s
    if ILLEGAL_CHARACTERS_RE.search(s):  # NUL and every other C0 control but tab, LF, CR
        s = s.replace("\x00", "")
        # Characters XML cannot hold (VT, other C0 controls) would crash the whole file: shown as U+FFFD.
        s = ILLEGAL_CHARACTERS_RE.sub("\ufffd", s)
    if not s.startswith(_DANGEROUS):
        return s
    if _PLAIN_NUMBER.fullmatch(s):
        return s  # a negative amount written as text (-500.00) is no formula
    return "'" + s


def cell_value(value: Any) -> Any:
    """Numbers stay numbers; everything else becomes neutralised text."""
    if type(value) is str:  # the common case first
        return safe_text(value)
    if isinstance(value, bool):
        return safe_text("是" if value else "否")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return safe_text(value)


def new_workbook() -> Workbook:
    """An empty workbook for a laid-out table (the 月推进 / 季通报 reports): its cells must be filled through
    ``cell_value`` / ``safe_text`` of this module, the one writer of fangpin's spreadsheets."""
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def write_xlsx(
    path: Path,
    *,
    title: str,
    subtitle: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    sheet_name: str = "Sheet1",
    extra_sheets: dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]] | None = None,
    fill: Callable[[_SheetStream], int] | None = None,
) -> int:
    """Title on row 1 (bold, 14 pt), subtitle on row 2, header on row 3 (bold, wrapped; as the national
    system), data below. Returns the number of data rows written.

    Written as SpreadsheetML straight into the zip, row by row (``_SheetStream``): the same cells as
    openpyxl's write-only mode (numbers as numbers, every other value through ``cell_value``, empty cells
    without a value) at a tenth of its cost — openpyxl without lxml builds an element per cell, ~10 µs, which was
    most of an export's CPU (a searched list of 300 households: 40,000 cells).

    ``fill`` (instead of ``rows``): called with the first sheet's stream after the header, it writes the data
    rows itself as their cells' pieces (``_SheetStream.tail``, ``joints``, ``pieces``: the registry export, whose
    household cells repeat on each member's row) and returns how many it wrote."""
    sheets = [(sheet_name, None)] + [(name, spec) for name, spec in (extra_sheets or {}).items()]
    n = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL) as z:
        z.writestr("[Content_Types].xml", _content_types(len(sheets)))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _workbook_xml([name for name, _ in sheets]))
        z.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        z.writestr("xl/styles.xml", _STYLES)
        with _SheetStream(z, 1) as ws:
            ws.row([safe_text(title)], style=_TITLE)
            ws.row([safe_text(subtitle)])
            ws.row([safe_text(h) for h in headers], style=_HEADER)
            for r in rows:
                ws.values(r)
                n += 1
            if fill is not None:
                n += fill(ws)
        for i, (_name, spec) in enumerate(sheets[1:], start=2):
            h2, rows2 = spec
            with _SheetStream(z, i) as ws2:
                ws2.row([safe_text(h) for h in h2])
                for r in rows2:
                    ws2.values(r)
    return n


# ---- the SpreadsheetML parts of write_xlsx (ECMA-376; read back by openpyxl, calamine and Excel) ---------------

_ZIP_LEVEL = 1  # deflate level: 6 (zipfile's default) costs twice the time for a file ~15% smaller
_TITLE, _HEADER = 1, 2  # cellXfs indexes of _STYLES
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_TEXT_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _content_types(sheets: int) -> str:
    parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, sheets + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{parts}</Types>"
    )


def _workbook_xml(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{_sheet_title(n).translate(_ATTR_ESCAPE)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(names, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'
    )


def _sheet_title(name: str) -> str:
    """What Excel accepts as a sheet name (openpyxl refuses the others): at most 31 characters, none of []:*?/\\."""
    return (re.sub(r"[\[\]:*?/\\]", "_", ILLEGAL_CHARACTERS_RE.sub("", name)) or "Sheet")[:31]


def _workbook_rels(sheets: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, sheets + 1)
    )
    rels += f'<Relationship Id="rId{sheets + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG}">{rels}</Relationships>'


def _letters(n: int) -> str:
    """A, B, … Z, AA, … for the 1-based column ``n``."""
    s = ""
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


_LETTERS: list[str] = [_letters(n) for n in range(1, 703)]  # A … ZZ, computed once
_TAILS_MAX = 50_000  # distinct texts remembered per sheet (then forgotten and made again)
_TEXT_ONLY = frozenset({str})
_LETTERS_LOCK = threading.Lock()  # Huey's thread workers may write workbooks at the same time


def _column(i: int) -> str:
    """The letters of the 0-based column ``i`` (beyond ZZ appended once, under a lock)."""
    if i >= len(_LETTERS):
        with _LETTERS_LOCK:
            while len(_LETTERS) <= i:
                _LETTERS.append(_letters(len(_LETTERS) + 1))
    return _LETTERS[i]


def joints(n: int) -> list[bytes]:
    """A row of ``n`` cells without their tails, split where its row number goes (``_SheetStream.pieces``):
    ``<row r="`` · ``"><c r="A`` · ``<c r="B`` · … · ``</row>`` (UTF-8); a new list each call."""
    if n == 0:
        return [b'<row r="', b'"></row>']
    if len(_LETTERS) < n:
        _column(n - 1)
    return [
        b'<row r="',
        f'"><c r="{_LETTERS[0]}'.encode(),
        *(f'<c r="{x}'.encode() for x in _LETTERS[1:n]),
        b"</row>",
    ]


_FLUSH = 1 << 18  # rows are handed to the zip stream (CRC, deflate) in pieces of about this many bytes


class _SheetStream:
    """One worksheet written into the open zip as its rows come (nothing but the last ``_FLUSH`` bytes of
    rows in memory: a write into the zip stream per row cost a CRC and a deflate call each)."""

    def __init__(self, z: zipfile.ZipFile, index: int) -> None:
        self._fh = z.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True)
        self._pending: list[bytes] = []
        self._size = 0
        self._r = 0
        self._tails: dict[str, bytes] = {}  # text value -> the rest of its cell after the reference, UTF-8
        self._buf: list[bytes] = []  # a row's pieces, the references' letters kept (``values``)

    def __enter__(self) -> _SheetStream:
        self._fh.write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}"><sheetData>'.encode()
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._write(b"</sheetData></worksheet>")
        self._fh.write(b"".join(self._pending))
        self._fh.close()

    def _write(self, data: bytes) -> None:
        self._pending.append(data)
        self._size += len(data)
        if self._size >= _FLUSH:
            self._fh.write(b"".join(self._pending))
            self._pending.clear()
            self._size = 0

    def row(self, values: Sequence[Any], *, style: int = 0) -> None:
        """Values as ``cell_value`` gives them: int/float a number cell, str a text cell ("" an empty one)."""
        self._r += 1
        r = str(self._r)
        s = f' s="{style}"' if style else ""
        if len(_LETTERS) < len(values):
            _column(len(values) - 1)
        letters = _LETTERS
        out = [f'<row r="{r}">']
        for i, v in enumerate(values):
            if isinstance(v, str):
                if v:
                    if "&" in v or "<" in v or ">" in v:
                        v = v.translate(_TEXT_ESCAPE)
                    out.append(
                        f'<c r="{letters[i]}{r}"{s} t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>'
                    )
                else:  # an empty cell without a value, as openpyxl writes it (a reader's row keeps its width)
                    out.append(f'<c r="{letters[i]}{r}"{s}/>')
            elif v is None:
                out.append(f'<c r="{letters[i]}{r}"{s}/>')
            else:
                out.append(f'<c r="{letters[i]}{r}"{s} t="n"><v>{v!r}</v></c>')
        out.append("</row>")
        self._write("".join(out).encode())

    def values(self, values: Sequence[Any]) -> None:
        """``row([cell_value(v) for v in values])``, the same bytes: a text value's cell (neutralised and
        escaped) is made once per distinct text of the sheet and reused (a list repeats 是/否, dates, its
        village's names on every row), a number's each time. The row's pieces are put in place by slice
        assignment and joined once, as UTF-8 (the cells are kept encoded); Python runs per cell only for a
        cell not made before."""
        self._r += 1
        r = str(self._r).encode()
        n = len(values)
        buf = self._buf
        if len(buf) != 3 * n:  # the cells' slots: '<c r="A', row, tail, '<c r="B', row, tail, …
            if len(_LETTERS) < n:
                _column(n - 1)
            buf = self._buf = [b""] * (3 * n)
            buf[0::3] = [f'<c r="{x}'.encode() for x in _LETTERS[:n]]
        tl = self.tails(values)
        buf[1::3] = [r] * n
        buf[2::3] = tl
        self._write(b'<row r="' + r + b'">' + b"".join(buf) + b"</row>")

    def tails(self, values: Sequence[Any]) -> list[bytes]:
        """``[tail(v) for v in values]``, the remembered ones looked up in one pass (Python runs only for a
        value not seen before)."""
        tails = self._tails
        if _TEXT_ONLY.issuperset(map(type, values)):
            tl = list(map(tails.get, values))
        else:  # another type's value equal to a remembered text (a str subclass) must not take its cell
            tl = [tails.get(v) if type(v) is str else None for v in values]
        if None in tl:
            i = tl.index(None)
            while True:
                tl[i] = self._tail(values[i])
                try:
                    i = tl.index(None, i + 1)
                except ValueError:
                    break
        return tl

    def tail(self, v: Any) -> bytes:
        """The rest of ``v``'s cell after its reference, as ``values`` writes it (a text's remembered)."""
        if type(v) is str:
            t = self._tails.get(v)
            if t is not None:
                return t
        return self._tail(v)

    def pieces(self, pieces: Sequence[bytes]) -> None:
        """One row given as what lies between its row numbers: the row is ``b"<r>".join(pieces)``, where
        ``pieces`` is ``joints(n)`` with the cells' tails put in front of their slots (slot ``i + 2`` for the
        column ``i``: ``tail(v) + joints(n)[i + 2]``) — the bytes ``values`` writes for those values."""
        self._r += 1
        self._write(str(self._r).encode().join(pieces))

    def _tail(self, v: Any) -> bytes:
        """The rest of ``v``'s cell after its reference, UTF-8 (remembered for a text). A text with nothing
        to neutralise, replace or escape (``_PLAIN_TEXT``: not empty, no character ``safe_text`` or the XML
        escapes change, not starting with a formula's character) is its own cell text, as ``cell_value``
        would give it."""
        c = v if type(v) is str and _PLAIN_TEXT.fullmatch(v) else cell_value(v)
        if isinstance(c, str):
            if c:
                if "&" in c or "<" in c or ">" in c:
                    c = c.translate(_TEXT_ESCAPE)
                tail = f'" t="inlineStr"><is><t xml:space="preserve">{c}</t></is></c>'.encode()
            else:
                tail = b'"/>'
            if type(v) is str:
                if len(self._tails) >= _TAILS_MAX:
                    self._tails.clear()
                self._tails[v] = tail
            return tail
        if c is None:
            return b'"/>'
        return f'" t="n"><v>{c!r}</v></c>'.encode()


def write_csv(path: Path, *, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """UTF-8 with BOM (Excel on Windows opens it correctly); same neutralisation as xlsx."""
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([safe_text(h) for h in headers])
        for r in rows:
            w.writerow([safe_text(v if not isinstance(v, bool) else ("是" if v else "否")) for v in r])
            n += 1
    return n
