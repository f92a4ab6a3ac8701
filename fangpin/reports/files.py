"""A report table as a file (xlsx or pdf), for the browser, the API and the CLI alike: built in the
actor's scope and audited as ``reports.export``."""

from __future__ import annotations

from dataclasses import dataclass

from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError

from .tables import ReportTable, report_build

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    content_type: str
    filename: str


def report_file(*, actor, kind: str, year: int, number: int, fmt: str, published: bool = True) -> ReportFile:
    if fmt not in FORMATS:
        raise DomainError(
            "report_format_unknown", f"不支持的文件格式“{fmt}”（可选 xlsx、pdf）", field="format"
        )
    table = report_build(actor=actor, kind=kind, year=year, number=number, published=published)
    return report_file_of(actor=actor, table=table, kind=kind, year=year, number=number, fmt=fmt,
                          published=published)  # fmt: skip


def report_file_of(
    *, actor, table: ReportTable, kind: str, year: int, number: int, fmt: str, published: bool
) -> ReportFile:
    """``table`` already built by ``report_build`` for ``actor``: rendered and the export audited."""
    from .excel import report_xlsx
    from .printable import report_pdf

    if fmt not in FORMATS:
        raise DomainError(
            "report_format_unknown", f"不支持的文件格式“{fmt}”（可选 xlsx、pdf）", field="format"
        )
    audit_record(
        actor=actor,
        event_type="reports.export",
        region_code=getattr(actor, "region_id", "") or "",
        data={"kind": kind, "year": year, "number": number, "format": fmt, "published": published},
    )
    body = report_xlsx(table) if fmt == "xlsx" else report_pdf(table)
    return ReportFile(body, FORMATS[fmt], f"{table.title}.{fmt}")
