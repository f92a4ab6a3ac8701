"""Small-cell suppression for published tables and 公示 lists.

Counts of a sensitive dimension (illness, disability; parameter ``publication.sensitive_dimensions``)
below ``publication.min_cell_size`` are suppressed (primary). Secondary (complementary) suppression then
makes sure no hidden cell can be recovered from the published row and column totals: every row and every
column of the table holds either no suppressed cell or at least two (the smallest other cell is hidden as
complement, zero cells only as a last resort); where a line has no other cell (a one-column table), its
total is hidden instead, and then a second total of that margin too, since the grand total is published.
Zero cells themselves are published (they identify nobody).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangpin.policy.params import param_value

SUPPRESSED = "*"


@dataclass
class PublishedTable:
    row_labels: list[str]
    col_labels: list[str]
    cells: list[list[int | str]]
    row_totals: list[int | str]
    col_totals: list[int | str]
    grand_total: int
    suppressed: set[tuple[int, int]]

    def as_rows(self) -> list[list[int | str]]:
        out = [["", *self.col_labels, "合计"]]
        for i, label in enumerate(self.row_labels):
            out.append([label, *self.cells[i], self.row_totals[i]])
        out.append(["合计", *self.col_totals, self.grand_total])
        return out


def suppress_table(
    counts: list[list[int]],
    *,
    min_cell: int,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
) -> PublishedTable:
    """Primary + secondary suppression of a two-way table of counts (rows × columns, totals derived)."""
    n, m = len(counts), len(counts[0]) if counts else 0
    hidden = {(i, j) for i in range(n) for j in range(m) if 0 < counts[i][j] < min_cell}
    hidden_row_totals: set[int] = set()
    hidden_col_totals: set[int] = set()
    changed = True
    while changed:
        changed = False
        for i in range(n):  # rows
            changed |= _complement(counts, hidden, [(i, j) for j in range(m)], hidden_row_totals, i)
        for j in range(m):  # columns
            changed |= _complement(counts, hidden, [(i, j) for i in range(n)], hidden_col_totals, j)
        # the margins are lines too (their sum, the grand total, is published)
        for margin, size in ((hidden_row_totals, n), (hidden_col_totals, m)):
            if len(margin) == 1 and size > 1:
                totals = (
                    [sum(counts[i]) for i in range(n)]
                    if margin is hidden_row_totals
                    else [sum(counts[i][j] for i in range(n)) for j in range(m)]
                )
                margin.add(min((k for k in range(size) if k not in margin), key=lambda k: (totals[k], k)))
                changed = True
    row_tot = [sum(r) for r in counts]
    col_tot = [sum(counts[i][j] for i in range(n)) for j in range(m)]
    return PublishedTable(
        row_labels=row_labels or [str(i) for i in range(n)],
        col_labels=col_labels or [str(j) for j in range(m)],
        cells=[[SUPPRESSED if (i, j) in hidden else counts[i][j] for j in range(m)] for i in range(n)],
        row_totals=[SUPPRESSED if i in hidden_row_totals else row_tot[i] for i in range(n)],
        col_totals=[SUPPRESSED if j in hidden_col_totals else col_tot[j] for j in range(m)],
        grand_total=sum(row_tot),
        suppressed=hidden,
    )


def _complement(counts, hidden: set, line: list[tuple[int, int]], hidden_totals: set[int], idx: int) -> bool:
    """A line with exactly one hidden cell gets a second one (the smallest other cell, zeros last) — or,
    when it has no other cell, its total is hidden."""
    inside = [c for c in line if c in hidden]
    if len(inside) != 1 or idx in hidden_totals:
        return False
    candidates = [c for c in line if c not in hidden]
    if candidates:
        hidden.add(min(candidates, key=lambda c: (counts[c[0]][c[1]] == 0, counts[c[0]][c[1]], c)))
    else:
        hidden_totals.add(idx)
    return True


def suppress_for_publication(
    counts: list[list[int]],
    *,
    dimension: str,
    region_code: str,
    on: dt.date,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
) -> PublishedTable:
    """The table as it may be published: suppressed when ``dimension`` is sensitive, unchanged otherwise."""
    year = on.year  # the parameters of the table's business year
    sensitive = param_value("publication.sensitive_dimensions", region_code=region_code, year=year)
    k = (
        int(param_value("publication.min_cell_size", region_code=region_code, year=year))
        if dimension in sensitive
        else 0
    )
    return suppress_table(counts, min_cell=k, row_labels=row_labels, col_labels=col_labels)
