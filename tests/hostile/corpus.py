"""Hostile upload files, built at test time (nothing hostile is committed). Each builder returns the raw
bytes of one file as an attacker or a careless department would send it."""

from __future__ import annotations

import io
import struct
import zipfile

import openpyxl

MB = 1024 * 1024


def plain_xlsx(rows: list[list[object]]) -> bytes:
    """A normal workbook, as Excel/openpyxl saves it (the base the hostile variants are made from)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEADER = ["姓名", "证件号码", "结算日期", "就诊类型", "个人自付"]


def _with_extra(entries: dict[str, bytes], *, content_types: bytes | None = None) -> bytes:
    src = zipfile.ZipFile(
        io.BytesIO(plain_xlsx([HEADER, ["张三", "410506197503040011", "2025-06-03", "住院", "10"]]))
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if content_types is not None and info.filename == "[Content_Types].xml":
                data = content_types
            z.writestr(info.filename, data)
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def too_large() -> bytes:
    return b"PK\x03\x04" + b"\0" * (51 * MB)


def ratio_bomb(mb: int = 200) -> bytes:
    """A worksheet of ``mb`` MB that compresses ~1000:1 (streamed, so building it needs little memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"<row>" + b" " * (MB - 11) + b"</row>"
            for _ in range(mb):
                f.write(chunk)
    return out.getvalue()


def declared_2gb() -> bytes:
    """A small zip whose directory claims a 2 GB worksheet (the declared size lies)."""
    data = bytearray(_with_extra({}))
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len] == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, pos + 24, 2_000_000_000)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(data)


def many_entries(n: int = 1001) -> bytes:
    return _with_extra({f"xl/media/x{i}.txt": b"x" for i in range(n)})


def macro_xlsm() -> bytes:
    ct = (
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
        b"</Types>"
    )
    return _with_extra(
        {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512}, content_types=ct
    )


def macro_content_type_only() -> bytes:
    ct = b'<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    return _with_extra({}, content_types=ct)


def embedded_ole() -> bytes:
    return _with_extra({"xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512})


def nested_zip() -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a.txt", "x")
    return _with_extra({"xl/media/inner.zip": inner.getvalue()})


def path_traversal() -> bytes:
    return _with_extra({"../../etc/cron.d/evil": b"* * * * * root id"})


def formula_cells() -> bytes:
    return plain_xlsx(
        [
            HEADER,
            ["张三", "410506197503040011", "2025-06-03", "住院", "10"],
            ["李四", "410506197503040011", "2025-06-04", "门诊", '=HYPERLINK("http://x","点")'],
            ["王五", "410506197503040011", "2025-06-05", "门诊", "=1+1"],
        ]
    )


def legacy_ole() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096


def too_many_rows_csv(rows: int = 300_020) -> bytes:
    """One header line and ``rows`` data lines (300,020 + 1 > 300,000 + 20 allowed)."""
    line = "张三,410506197503040011,2025-06-03,住院,10\r\n".encode()
    return ",".join(HEADER).encode() + b"\r\n" + line * rows


def not_a_zip() -> bytes:
    return b"PK\x03\x04" + b"garbage" * 100


def prefixed_formula_sheet() -> bytes:
    """A sheet as the .NET Open XML SDK writes it: namespace-prefixed elements (<x:row>, <x:c>, <x:f>)."""
    sheet = (
        b'<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<x:sheetData><x:row r="1"><x:c r="A1" t="str"><x:v>a</x:v></x:c></x:row>'
        b'<x:row r="2"><x:c r="B2"><x:f>SUM(1,2)</x:f><x:v>3</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()
