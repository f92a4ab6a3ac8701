"""What the upload guard costs: ``core.uploads.upload_inspect`` on a plain workbook, beside zip
decompression alone and the calamine parse the importer does anyway; and how fast it refuses a bomb.

    .venv/bin/python bench/upload_guard.py [--rows 100000] [--cols 30]

The workbook is written with openpyxl (random text cells, like a national export's sheet XML).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")

import django  # noqa: E402

django.setup()

from fangpin.core.errors import DomainError  # noqa: E402
from fangpin.core.uploads import upload_inspect  # noqa: E402


def _workbook(rows: int, cols: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append([f"列{c}" for c in range(cols)])
    rnd = random.Random(0)
    for r in range(rows):
        ws.append([f"值{r}-{c}-{rnd.randint(0, 99999)}" for c in range(cols)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _bomb(mb: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for _ in range(mb):
                f.write(b" " * (1 << 20))
    return out.getvalue()


def _peak_kb() -> int:
    return int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--cols", type=int, default=30)
    a = ap.parse_args()
    data = _workbook(a.rows, a.cols)
    t = time.perf_counter()
    rep = upload_inspect(data, "bench.xlsx")
    guard = time.perf_counter() - t
    zf = zipfile.ZipFile(io.BytesIO(data))
    t = time.perf_counter()
    for i in zf.infolist():
        with zf.open(i) as f:
            while f.read(1 << 20):
                pass
    unzip = time.perf_counter() - t
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    parse = time.perf_counter() - t
    print(f"workbook: {len(data) / 2**20:.1f} MB, {rep.uncompressed / 2**20:.0f} MB of XML, {rep.rows} rows")
    print(f"upload guard           {guard:6.2f} s")
    print(f"baseline: unzip only   {unzip:6.2f} s")
    print(f"baseline: calamine     {parse:6.2f} s  (the importer's read; guard adds {guard / parse:.0%})")
    bomb = _bomb(1000)
    t = time.perf_counter()
    try:
        upload_inspect(bomb, "bomb.xlsx")
    except DomainError as e:
        print(
            f"1 GB bomb ({len(bomb) / 2**20:.1f} MB file) refused in {time.perf_counter() - t:.3f} s: {e.code}"
        )
    print(f"peak RSS {_peak_kb() / 1024:.0f} MB")


if __name__ == "__main__":
    main()
