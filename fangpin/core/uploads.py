"""One guard for every uploaded file, before any parser sees it (ASVS 12.1, security VAL-06).

Every entry point (registry import, department upload, later the API) calls ``upload_check`` with the
raw bytes. In order:

1. size cap (``FANGPIN_UPLOAD_MAX_MB``, default 50 MB);
2. kind by content: zip (xlsx), OLE2 (legacy .xls or an encrypted workbook: refused), Parquet, text;
3. for a zip, the central directory before anything is unpacked: entry count, declared total, per-entry
   compression ratio, absolute or ``..`` paths, macros (``vbaProject.bin``, macro-enabled content types),
   embedded OLE objects and ActiveX, nested archives;
4. then every worksheet is streamed through zlib with a hard byte counter (declared sizes can lie), which
   also counts rows against the row cap (``FANGPIN_UPLOAD_MAX_ROWS``, default 300,000) and finds formula
   cells — a formula is refused with the cells named, never silently read by its cached value;
5. for text, the row cap by counting line ends.

The row cap counts every row of the sheet, allowing ``HEADER_ALLOWANCE`` (20) title and header rows above
300,000 data rows.

Each refusal is a ``DomainError`` whose Chinese message names the file (and the sheet/row/column where
there is one); ``upload_check`` with an actor also writes an ``upload.refused`` audit event, the record
of the rejection.

Over HTTP the size cap applies while Django receives the body, not after: ``GuardedUploadHandler`` (the
project's ``FILE_UPLOAD_HANDLERS``) streams every file above ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary
file and stops storing it at the cap (the rest of the body is counted and dropped: neither memory nor disk
grows with it); what the view gets is an ``OversizeUpload`` (name and size, no content), which
``upload_read`` — the browser's and the API's way to take an uploaded file's bytes — refuses with the
same message and audit event as ``upload_check``, without reading anything.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from .errors import DomainError
from .text import visible

E_TOO_LARGE = "upload_too_large"
E_BOMB = "upload_zip_bomb"
E_MACRO = "upload_macro"
E_EMBEDDED = "upload_embedded_object"
E_NESTED = "upload_nested_archive"
E_PATH = "upload_bad_path"
E_CORRUPT = "file_corrupt"  # the same codes as the registry reader
E_ROWS = "upload_too_many_rows"
E_FORMULA = "upload_formula"
E_OLE = "file_format"
E_SUFFIX = "file_format"  # the registry reader's code for a file that is no table
# What a table may be called; a name without a suffix (a pasted or generated name) is judged by content alone.
TABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt", ".tsv", ".parquet")

MB = 1024 * 1024
CHUNK = 1 * MB
HEADER_ALLOWANCE = 20  # title and header rows above the data (the reader looks for the header in 20)
RATIO_MIN_SIZE = 1 * MB  # tiny XML parts compress extremely well; the ratio counts from this size
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PARQUET_MAGIC = b"PAR1"
_ARCHIVE_SUFFIXES = (".zip", ".xlsx", ".xlsm", ".xlsb", ".docx", ".docm", ".pptx", ".jar", ".7z", ".rar", ".gz",
                     ".tar", ".bz2", ".xz", ".cab")  # fmt: skip
_EMBEDDED_PARTS = ("xl/embeddings/", "xl/activex/", "word/embeddings/", "ppt/embeddings/")
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_rows: int
    max_entries: int
    max_uncompressed: int
    max_ratio: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            max_bytes=int(getattr(settings, "FANGPIN_UPLOAD_MAX_MB", 50)) * MB,
            max_rows=int(getattr(settings, "FANGPIN_UPLOAD_MAX_ROWS", 300_000)),
            max_entries=int(getattr(settings, "FANGPIN_UPLOAD_MAX_ZIP_ENTRIES", 1000)),
            max_uncompressed=int(getattr(settings, "FANGPIN_UPLOAD_MAX_UNCOMPRESSED_MB", 1024)) * MB,
            max_ratio=int(getattr(settings, "FANGPIN_UPLOAD_MAX_RATIO", 100)),
        )


@dataclass
class UploadReport:
    kind: str  # xlsx | parquet | text
    size: int
    sha256: str
    rows: int = 0
    entries: int = 0
    uncompressed: int = 0
    notes: list[str] = field(default_factory=list)


def _refuse(code: str, file_name: str, message: str) -> DomainError:
    return DomainError(code, f"文件“{file_name}”{message}，已拒绝，未导入任何数据", field="file")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _check_zip(data: bytes, name: str, lim: UploadLimits, rep: UploadReport) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(E_CORRUPT, name, "已损坏或不是有效的Excel（xlsx）文件") from None
    rep.entries = len(infos)
    if len(infos) > lim.max_entries:
        raise _refuse(E_BOMB, name, f"压缩包内有{len(infos)}个条目，超过上限{lim.max_entries}个")
    declared = sum(i.file_size for i in infos)
    if declared > lim.max_uncompressed:
        raise _refuse(
            E_BOMB,
            name,
            f"解压后约{declared // MB}MB，超过上限{lim.max_uncompressed // MB}MB（疑似压缩炸弹）",
        )
    sheets = []
    for i in infos:
        n = i.filename
        low = n.lower()
        if n.startswith(("/", "\\")) or ".." in PurePosixPath(n.replace("\\", "/")).parts or ":" in n:
            raise _refuse(E_PATH, name, f"含异常路径“{n[:80]}”")
        if low.endswith("vbaproject.bin") or low.endswith("vbaprojectsignature.bin"):
            raise _refuse(E_MACRO, name, "含宏（VBA）代码；请另存为不含宏的.xlsx文件")
        if low.startswith(_EMBEDDED_PARTS) or "oleobject" in low:
            raise _refuse(E_EMBEDDED, name, f"含嵌入对象（{n[:80]}）；请删除嵌入的对象后另存")
        if low.endswith(_ARCHIVE_SUFFIXES):
            raise _refuse(E_NESTED, name, f"内含压缩包（{n[:80]}）")
        if i.file_size > RATIO_MIN_SIZE and i.file_size > lim.max_ratio * max(i.compress_size, 1):
            raise _refuse(
                E_BOMB,
                name,
                f"条目“{n[:80]}”压缩比{i.file_size // max(i.compress_size, 1)}倍，超过上限{lim.max_ratio}倍（疑似压缩炸弹）",
            )
        if low.startswith("xl/worksheets/") and low.endswith(".xml"):
            sheets.append(i)
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise _refuse(E_CORRUPT, name, "已损坏或不是有效的Excel（xlsx）文件")
    budget = lim.max_uncompressed
    ctypes = _read_counted(zf, zf.getinfo("[Content_Types].xml"), name, budget, lim)
    budget -= len(ctypes)
    if b"macroEnabled" in ctypes or b"vbaProject" in ctypes:
        raise _refuse(E_MACRO, name, "是启用宏的工作簿；请另存为不含宏的.xlsx文件")
    for s in sheets:
        budget = _scan_sheet(zf, s, name, budget, lim, rep)
    rep.uncompressed = lim.max_uncompressed - budget


def _read_counted(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: int, lim: UploadLimits
) -> bytes:
    out = bytearray()
    with zf.open(info) as f:
        while chunk := f.read(CHUNK):
            out += chunk
            if len(out) > budget or len(out) > 16 * MB:
                raise _refuse(E_BOMB, name, f"条目“{info.filename}”解压后超过上限（疑似压缩炸弹）")
    return bytes(out)


def _scan_sheet(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: int, lim: UploadLimits, rep: UploadReport
) -> int:
    """Streams one worksheet: byte counter, row count, formula cells. Returns the remaining budget."""
    sheet = PurePosixPath(info.filename).stem
    rows = 0
    formulas: list[str] = []
    tail = b""
    read = 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(CHUNK):
                read += len(chunk)
                if read > budget:
                    raise _refuse(
                        E_BOMB,
                        name,
                        f"工作表{sheet}解压后超过{lim.max_uncompressed // MB}MB上限（疑似压缩炸弹）",
                    )
                buf = tail + chunk
                # bytes.count runs at C speed; ":row" covers writers that prefix the namespace (<x:row>);
                # the previous chunk's last 3 bytes catch a tag split across chunks (a 4-byte pattern cannot
                # lie wholly inside them); <rowBreaks> is rare, a slight overcount
                edge = tail[-3:] + chunk
                rows += edge.count(b"<row") + edge.count(b":row")
                if rows > lim.max_rows + HEADER_ALLOWANCE:
                    raise _refuse(E_ROWS, name, f"工作表{sheet}超过{lim.max_rows}行上限，请分批上传")
                if len(formulas) < 10 and (b"<f" in buf or b":f" in buf):
                    for m in _FORMULA.finditer(buf, max(0, len(tail) - 2)):
                        refs = list(_CELL_REF.finditer(buf, 0, m.start()))
                        if refs:
                            col, row = refs[-1].group(1).decode(), refs[-1].group(2).decode()
                            formulas.append(f"第{row}行第{col}列（{col}{row}）")
                        else:
                            formulas.append("（位置未知）")
                        if len(formulas) >= 10:
                            break
                tail = buf[-4096:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise _refuse(E_CORRUPT, name, f"已损坏（{exc.__class__.__name__}）") from None
    if formulas:
        raise _refuse(
            E_FORMULA,
            name,
            f"工作表{sheet}含公式单元格：{'、'.join(dict.fromkeys(formulas))}；公式不按缓存值读取，"
            "请将公式转为数值（复制→选择性粘贴→数值）后重新上传",
        )
    rep.rows = max(rep.rows, rows)
    return budget - read


def _check_text(data: bytes, name: str, lim: UploadLimits, rep: UploadReport) -> None:
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    rep.rows = lines
    if lines > lim.max_rows + HEADER_ALLOWANCE:
        raise _refuse(E_ROWS, name, f"有{lines}行，超过{lim.max_rows}行上限，请分批上传")


def _check_parquet(data: bytes, name: str, lim: UploadLimits, rep: UploadReport) -> None:
    import pyarrow.parquet as pq

    try:
        rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
    except Exception as exc:  # pyarrow raises several error types for broken files
        raise _refuse(E_CORRUPT, name, f"已损坏（{exc.__class__.__name__}）") from None
    rep.rows = rows
    if rows > lim.max_rows:
        raise _refuse(E_ROWS, name, f"有{rows}行，超过{lim.max_rows}行上限，请分批上传")


def upload_inspect(data: bytes, file_name: str, *, limits: UploadLimits | None = None) -> UploadReport:
    """Checks the bytes of an upload; raises DomainError naming the file (and cell) when refused."""
    lim = limits or UploadLimits.from_settings()
    name = visible(PurePosixPath(str(file_name).replace("\\", "/")).name) or "上传文件"
    rep = UploadReport(kind="text", size=len(data), sha256=hashlib.sha256(data).hexdigest())
    if len(data) > lim.max_bytes:
        raise _refuse(E_TOO_LARGE, name, f"大小{len(data) / MB:.1f}MB，超过{lim.max_bytes // MB}MB上限")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix and suffix not in TABLE_SUFFIXES:  # e.g. 户xslx.exe, a program named like a table
        raise _refuse(E_SUFFIX, name, f"扩展名{suffix}不是表格文件，不支持；请上传 .xlsx 或 .csv 文件")
    head = data[:8]
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        rep.kind = "xlsx"
        _check_zip(data, name, lim, rep)
    elif head.startswith(OLE_MAGIC):
        raise _refuse(E_OLE, name, "是旧版Excel（.xls）或加密的工作簿，不支持；请取消密码并另存为.xlsx")
    elif head.startswith(PARQUET_MAGIC):
        rep.kind = "parquet"
        _check_parquet(data, name, lim, rep)
    else:
        _check_text(data, name, lim, rep)
    return rep


def _audit_refusal(
    *, actor, error: DomainError, object_id: str, entry: str, file_name: str, size: int
) -> None:
    from fangpin.audit.record import audit_record

    audit_record(
        actor=actor,
        event_type="upload.refused",
        object_type="upload",
        object_id=object_id,
        result="refused",
        reason=error.message,
        data={"entry": entry, "file_name": visible(str(file_name))[:200], "size": size, "code": error.code},
    )


def upload_check(*, data: bytes, file_name: str, actor=None, entry: str = "") -> UploadReport:
    """``upload_inspect`` for an entry point; with an actor, a refusal is audited (``upload.refused``)."""
    try:
        return upload_inspect(data, file_name)
    except DomainError as e:
        if actor is not None:
            _audit_refusal(actor=actor, error=e, object_id=hashlib.sha256(data).hexdigest()[:16], entry=entry,
                           file_name=file_name, size=len(data))  # fmt: skip
        raise


def _too_large(name: str, size: int, limit: int) -> DomainError:
    shown = visible(PurePosixPath(str(name or "").replace("\\", "/")).name) or "上传文件"
    return _refuse(E_TOO_LARGE, shown, f"大小超过{limit // MB}MB上限（已收到{size / MB:.1f}MB）")


class OversizeUpload(UploadedFile):
    """What ``GuardedUploadHandler`` keeps of a file over the size cap: its name and the bytes counted,
    none of the content. Reading it raises the size refusal (a route that forgot ``upload_read`` still
    gets the Chinese refusal, never an empty file)."""

    oversize = True

    def __init__(self, *, name: str, size: int, content_type: str | None, charset: str | None, limit: int):
        super().__init__(
            file=io.BytesIO(b""), name=name, content_type=content_type, size=size, charset=charset
        )
        self.limit = limit

    def refusal(self) -> DomainError:
        return _too_large(self.name or "", self.size or 0, self.limit)

    def read(self, *args, **kwargs) -> bytes:
        raise self.refusal()

    def chunks(self, chunk_size=None):
        raise self.refusal()


class GuardedUploadHandler(TemporaryFileUploadHandler):
    """A multipart file goes to a temporary file and is no longer stored past the upload cap
    (``FANGPIN_UPLOAD_MAX_MB``): the rest of it is counted and dropped, and the view gets an
    ``OversizeUpload``. Listed after Django's memory handler, which keeps small requests in memory."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._received = 0
        self._limit = UploadLimits.from_settings().max_bytes

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._received > self._limit:
            if not self.file.closed:
                self.file.close()  # a NamedTemporaryFile: closing it removes it
            return None
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int):
        if self._received > self._limit:
            return OversizeUpload(name=self.file_name, size=self._received, content_type=self.content_type,
                                  charset=self.charset, limit=self._limit)  # fmt: skip
        return super().file_complete(file_size)


def upload_read(upload, *, actor=None, entry: str = "") -> bytes:
    """The bytes of an uploaded file (a Django ``UploadedFile``) for an entry point of the browser or the
    API. A file over the size cap (stopped by ``GuardedUploadHandler``, or larger than the cap by its
    size) is refused — audited like every refusal of the guard — before a byte of it is read. The content
    checks are ``upload_check``'s, which the service runs on the bytes."""
    limit = UploadLimits.from_settings().max_bytes
    name = getattr(upload, "name", "") or ""
    size = int(getattr(upload, "size", 0) or 0)
    if getattr(upload, "oversize", False) or size > limit:
        err = _too_large(name, size, limit)
        if actor is not None:
            _audit_refusal(
                actor=actor, error=err, object_id="oversize", entry=entry, file_name=name, size=size
            )
        raise err
    return upload.read()
