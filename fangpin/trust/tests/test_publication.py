import datetime as dt
from fractions import Fraction
from itertools import product

import pytest

from fangpin.trust.publication import SUPPRESSED, suppress_for_publication, suppress_table


def _determined(table, counts):
    """Which hidden quantities (cells and totals) can be computed exactly from what is published: a
    variable is determined iff its unit vector lies in the row space of the published linear constraints."""
    n, m = len(counts), len(counts[0])
    unknown = [("c", i, j) for i in range(n) for j in range(m) if table.cells[i][j] == SUPPRESSED]
    unknown += [("r", i) for i in range(n) if table.row_totals[i] == SUPPRESSED]
    unknown += [("k", j) for j in range(m) if table.col_totals[j] == SUPPRESSED]
    idx = {u: k for k, u in enumerate(unknown)}
    rows = []
    for i in range(n):
        v = [Fraction(0)] * len(unknown)
        for j in range(m):
            if ("c", i, j) in idx:
                v[idx[("c", i, j)]] += 1
        if ("r", i) in idx:
            v[idx[("r", i)]] -= 1
        rows.append(v)
    for j in range(m):
        v = [Fraction(0)] * len(unknown)
        for i in range(n):
            if ("c", i, j) in idx:
                v[idx[("c", i, j)]] += 1
        if ("k", j) in idx:
            v[idx[("k", j)]] -= 1
        rows.append(v)
    rows.append([Fraction(1) if u[0] == "r" else Fraction(0) for u in unknown])
    rows.append([Fraction(1) if u[0] == "k" else Fraction(0) for u in unknown])

    def rank(mat):
        mat = [r[:] for r in mat if any(r)]
        r = 0
        for c in range(len(unknown)):
            piv = next((k for k in range(r, len(mat)) if mat[k][c] != 0), None)
            if piv is None:
                continue
            mat[r], mat[piv] = mat[piv], mat[r]
            for k in range(len(mat)):
                if k != r and mat[k][c] != 0:
                    fct = mat[k][c] / mat[r][c]
                    mat[k] = [a - fct * b for a, b in zip(mat[k], mat[r], strict=True)]
            r += 1
        return r

    base = rank(rows)
    found = []
    for u, k in idx.items():
        e = [Fraction(1) if x == k else Fraction(0) for x in range(len(unknown))]
        if rank([*rows, e]) == base:
            found.append(u)
    return found


TABLE = [  # villages × disability category
    [12, 3, 9, 0],
    [7, 8, 6, 11],
    [2, 15, 10, 6],
    [9, 6, 1, 0],
]


def test_small_cells_hidden_and_not_recoverable_from_totals():
    t = suppress_table(TABLE, min_cell=5)
    for i, j in product(range(4), range(4)):
        if 0 < TABLE[i][j] < 5:
            assert t.cells[i][j] == SUPPRESSED
    assert t.cells[0][3] == 0  # zeros published
    assert len(t.suppressed) > 4  # complementary cells were needed
    assert _determined(t, TABLE) == []
    assert t.grand_total == sum(map(sum, TABLE))


def test_naive_primary_suppression_alone_would_leak():
    t = suppress_table(TABLE, min_cell=5)
    t.cells = [[SUPPRESSED if 0 < v < 5 else v for v in row] for row in TABLE]  # primary only
    assert _determined(t, TABLE)  # the check above can fail


def test_one_column_table_hides_totals_too():
    counts = [[3], [40], [25]]
    t = suppress_table(counts, min_cell=5)
    assert t.cells[0][0] == SUPPRESSED
    assert _determined(t, counts) == []


@pytest.mark.django_db
def test_threshold_and_sensitivity_come_from_parameters():
    t = suppress_for_publication(
        TABLE, dimension="disability_category", region_code="410506205201", on=dt.date(2025, 6, 30)
    )
    assert t.cells[0][1] == SUPPRESSED
    t2 = suppress_for_publication(
        TABLE, dimension="household_type", region_code="410506205201", on=dt.date(2025, 6, 30)
    )
    assert SUPPRESSED not in [c for row in t2.cells for c in row]
