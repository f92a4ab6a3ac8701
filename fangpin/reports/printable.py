"""A ``ReportTable`` as a printable HTML page and as PDF (WeasyPrint, CJK font from the system:
Debian's fonts-wqy-microhei, which ``./run`` installs; the stylesheet names it first)."""

from __future__ import annotations

from django.template.loader import render_to_string

from .tables import ReportTable


def report_html(table: ReportTable, *, for_pdf: bool = False) -> str:
    return render_to_string("reports/table.html", {"t": table, "for_pdf": for_pdf})


def report_pdf(table: ReportTable) -> bytes:
    from weasyprint import HTML

    return HTML(string=report_html(table, for_pdf=True)).write_pdf()
