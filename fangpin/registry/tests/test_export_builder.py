"""The export's row builder (``registry.io.export._RowBuilder.row``, one closure per column made once) against
the loop over the columns it replaced, kept here verbatim as the reference: every column of the national
format filled, masked and unmasked, blank values, a household without income or monitoring, a 残疾人证
holder. A difference in any cell of any column fails with the column's header."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from fangpin.core.masking import mask_birth_date, mask_id_number, mask_phone
from fangpin.registry.io.columns import (
    DERIVED,
    HH,
    HH_FACTS,
    INCOME,
    LOC,
    MON,
    PERSON,
    PERSON_FACTS,
    RISK_KEYS,
    fmt_bool,
)
from fangpin.registry.io.export import EXPORT_COLUMNS, _RowBuilder
from fangpin.registry.io.validate import FIELD_OF


def reference_row(b: _RowBuilder, hh: dict, p: dict, names, derived: dict, income: dict | None) -> list:
    """``_RowBuilder.row`` as it was before the per-column closures (main at fb53bb9)."""
    mon = b.monitoring.get(hh["id"], {})
    hh_facts = hh.get("national_facts") or {}
    p_facts = p.get("national_facts") or {}
    out: list[Any] = []
    for col in EXPORT_COLUMNS:
        k = col.key
        if col.target == LOC:
            v = {
                "county": names[0],
                "township": names[1],
                "village": names[2],
                "village_code": hh["village_id"],
            }[k]
        elif k == "id_number":
            v = (
                p["disability_cert_no"]
                if p["id_type"] == "残疾人证" and p["disability_cert_no"]
                else p["id_number"]
            )
            v = mask_id_number(v) if b.masked else (v or "")
        elif col.target == HH_FACTS:
            v = derived.get(col.extra["export"], "") if "export" in col.extra else hh_facts.get(k, "")
        elif col.target == PERSON_FACTS:
            v = p_facts.get(k, "")
            if col.extra.get("phone") and b.masked:
                v = mask_phone(v)
        elif k == "safe_drinking_water":
            v = hh[k] if hh[k] is not None else derived["g_water"]
        elif col.target == HH and k != "g_housing":
            v = hh[k]
            if k == "phone" and b.masked:
                v = mask_phone(v)
        elif k == "public_welfare_job_months":
            has_job = p["public_welfare_job"] or p["public_welfare_job_name"]
            v = p[k] if has_job or p[k] else ""
        elif k == "public_welfare_job_name":
            v = p[k] or ("是" if p["public_welfare_job"] else "")
        elif col.target == PERSON:
            v = p[FIELD_OF.get(k, k)]
            if k == "person_phone" and b.masked:
                v = mask_phone(v)
            elif k == "birth_date" and b.masked:
                v = mask_birth_date(v)
        elif col.target == INCOME:
            if income is None:
                v = ""
            elif k == "stated_per_capita":
                v = derived.get("per_capita")
            elif k == "transfer_total":
                v = derived.get("transfer_total")
            else:
                v = income[k]
        elif col.target == MON:
            if k in RISK_KEYS:
                risks = mon.get("risk_types") or []
                i = int(k[-1]) - 1
                v = risks[i] if i < len(risks) else ""
            elif k == "eliminated":
                v = fmt_bool(mon["eliminated"]) if mon.get("category") else ""
            else:
                v = mon.get(k) or ""
        elif col.target == DERIVED and "same_as" in col.extra:
            v = p[col.extra["same_as"]]
        else:
            v = derived.get(k, "")
        out.append(_RowBuilder._fmt(col.kind, k, v))
    return out


def _value(kind: str, n: int) -> Any:
    """A filled value of the column's kind (each column its own, so a value read from the wrong column shows)."""
    return {
        "number": Decimal(f"{1000 + n}.5"),
        "date": dt.date(2020, 1, 1) + dt.timedelta(days=n),
        "yyyymm": dt.date(2021, 1 + n % 12, 1),
        "bool": n % 2 == 0,
        "gender": "F" if n % 2 else "M",
    }.get(kind, f"值{n}")


def _fixture(*, filled: bool = True, disabled: bool = False) -> tuple[dict, dict, dict, dict, dict]:
    hh: dict[str, Any] = {"id": 7, "village_id": "410506003207", "national_facts": {}}
    p: dict[str, Any] = {"national_facts": {}, "id_type": "居民身份证", "disability_cert_no": ""}
    income: dict[str, Any] = {}
    mon: dict[str, Any] = {}
    for n, col in enumerate(EXPORT_COLUMNS):
        v = _value(col.kind, n) if filled else None
        if col.target == HH:
            hh[col.key] = v
        elif col.target == PERSON:
            p[FIELD_OF.get(col.key, col.key)] = v
        elif col.target == INCOME:
            income[col.key] = v
        elif col.target == MON:
            mon[col.key] = v
        elif col.target == HH_FACTS:
            hh["national_facts"][col.key] = f"户事实{n}" if filled else ""
        elif col.target == PERSON_FACTS:
            p["national_facts"][col.key] = (
                ("13912345678" if col.extra.get("phone") else f"人事实{n}") if filled else ""
            )
        elif col.target == DERIVED and "same_as" in col.extra:
            p.setdefault(col.extra["same_as"], v)
    hh.update(phone="13800001234" if filled else "", safe_drinking_water=None if not filled else True)
    p.update(
        id_number="410506199001011234" if filled else "",
        phone="13700005678" if filled else "",
        birth_date=dt.date(1990, 1, 1) if filled else None,
        public_welfare_job=filled,
        public_welfare_job_name="护林员" if filled else "",
        public_welfare_job_months=10 if filled else None,
    )
    if disabled:
        p.update(id_type="残疾人证", disability_cert_no="41050619900101123441")
    mon.update(
        risk_types=["因病", "因学", "因灾"] if filled else [], category="脱贫不稳定户" if filled else ""
    )
    mon.update(eliminated=True)
    return hh, p, income, mon, {}


DERIVED_FILLED = {
    "g_education": "否",
    "g_medical": "是",
    "g_housing": "否",
    "g_water": "是",
    "per_capita": Decimal("8123.456"),
    "transfer_total": Decimal("2000"),
}


@pytest.mark.parametrize("masked", [True, False])
@pytest.mark.parametrize(
    "case", ["filled", "blank", "no income", "no monitoring", "disability certificate", "job without post"]
)
def test_row_builder_matches_the_reference_loop(masked: bool, case: str) -> None:
    hh, p, income, mon, _ = _fixture(filled=case != "blank", disabled=case == "disability certificate")
    derived = dict(DERIVED_FILLED) if case != "blank" else {"g_water": "否", "per_capita": None}
    if case == "no income":
        income = None
        derived.pop("per_capita"), derived.pop("transfer_total")
    if case == "job without post":
        p.update(public_welfare_job=False, public_welfare_job_name="", public_welfare_job_months=0)
    monitoring = {} if case == "no monitoring" else {hh["id"]: mon}
    names = ("安阳市龙安区", "马家乡", "王家岗村")
    b = _RowBuilder(masked=masked, income_year=None, on=dt.date(2026, 12, 1), monitoring=monitoring)
    got = b.row(hh, p, names, derived, income)
    want = reference_row(b, hh, p, names, derived, income)
    assert len(got) == len(EXPORT_COLUMNS)
    diffs = [
        (c.header, g, w)
        for c, g, w in zip(EXPORT_COLUMNS, got, want, strict=True)
        if g != w or type(g) is not type(w)
    ]
    assert diffs == []
    if case == "filled":  # the fixture reaches every kind of column with a value, not blanks
        assert sum(1 for v in got if v not in ("", None)) > len(EXPORT_COLUMNS) * 0.9


def test_sheet_values_write_the_bytes_of_row_of_cell_value(tmp_path) -> None:
    """``_SheetStream.values`` (a text's cell made once per sheet) writes what ``row([cell_value(v) ...])``
    writes, for every kind of value a row holds, repeated so the remembered cells are used."""
    import zipfile

    from fangpin.registry.io import xlsx

    rows = [
        ["", None, "是", "否", "=1+2", "+86 139", "-500.00", "@x", "a&b<c>d", "\x00零\x0b", "王家岗村"],
        [Decimal("1.50"), Decimal("2"), Decimal("-3.25"), True, False, 3, 2.5, dt.date(2024, 3, 5), "\t制表"],
    ] * 3
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        with xlsx._SheetStream(z, 1) as a:
            for r in rows:
                a.values(r)
        with xlsx._SheetStream(z, 2) as b:
            for r in rows:
                b.row([xlsx.cell_value(v) for v in r])
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        one, two = z.read("xl/worksheets/sheet1.xml"), z.read("xl/worksheets/sheet2.xml")
    assert one == two
    assert b"&amp;" in one and b"'=1+2" in one and b"\xef\xbf\xbd" in one  # escaped, neutralised, replaced


@pytest.mark.parametrize("masked", [True, False])
def test_household_rows_give_each_members_row(masked: bool) -> None:
    """``household_rows`` (the household's cells made once, the person's per member) gives, member by member,
    what ``row`` and the reference loop give: members filled, blank and with a 残疾人证, each its own cells."""
    hh, p, income, mon, _ = _fixture(filled=True)
    _, blank, _, _, _ = _fixture(filled=False)
    _, disabled, _, _, _ = _fixture(filled=True, disabled=True)
    p2 = {**p, "name": "第二人", "id_number": "410506199202021234", "national_facts": {}}
    members = [p, blank, disabled, p2]
    names = ("安阳市龙安区", "马家乡", "王家岗村")
    b = _RowBuilder(masked=masked, income_year=None, on=dt.date(2026, 12, 1), monitoring={hh["id"]: mon})
    got = [list(r) for r in b.household_rows(hh, members, names, DERIVED_FILLED, income)]
    assert got == [b.row(hh, m, names, DERIVED_FILLED, income) for m in members]
    assert got == [reference_row(b, hh, m, names, DERIVED_FILLED, income) for m in members]
    assert len({tuple(r) for r in got}) == len(members)  # the person columns do differ between members


def _income(amounts: dict[str, Decimal], year: int = 2024) -> dict:
    from fangpin.registry.models.income import TRANSFER_FIELDS

    row = {c: Decimal("0.00") for c in (*TRANSFER_FIELDS, "wage", "production_business", "property_income")}
    row.update(production_expense=Decimal("0.00"), insurance_payout=Decimal("0.00"))
    row.update(compliant_out_of_pocket=Decimal("0.00"))
    row.update(amounts)
    return {"period_start": dt.date(year, 1, 1), "period_end": dt.date(year, 12, 31), **row}


def _rule(income: dict, transfer: Decimal, members: int, payout: bool) -> Decimal | None:
    """The per-capita income as the export computed it before the integer path: the rule itself."""
    from fangpin.policy.rules.income import IncomeFacts, per_capita_net_income

    keys = ("wage", "production_business", "property_income", "production_expense", "insurance_payout")
    res = per_capita_net_income(
        [
            IncomeFacts(
                period_start=income["period_start"],
                period_end=income["period_end"],
                transfer=transfer,
                compliant_out_of_pocket=income["compliant_out_of_pocket"],
                **{k: income[k] for k in keys},
            )
        ],
        members=members,
        month=dt.date(income["period_end"].year + 1, 1, 1),
        include_insurance_payout=payout,
    )
    return res.per_capita if res.months_covered else None


def test_calendar_year_per_capita_is_the_rules_fen() -> None:
    """The export's integer-fen 人均纯收入 against ``per_capita_net_income`` (exact ``Fraction``s, rounded half
    away from zero): every net from -6.00 to 6.00 yuan fen by fen (all the ties: x.xx5) for 1 to 13 members,
    with and without the insurance payout, and large, negative and mixed amounts — the same Decimal, digit
    for digit and exponent for exponent."""
    from fangpin.registry.io.export import _calendar_year_per_capita

    cases = []
    for fen in range(-600, 601):
        for members in range(1, 14):
            cases.append(({"wage": Decimal(fen).scaleb(-2)}, Decimal("0.00"), members))
    big = {
        "wage": Decimal("9999999999.99"),
        "production_business": Decimal("-123456.78"),
        "property_income": Decimal("0.01"),
        "production_expense": Decimal("77777.77"),
        "insurance_payout": Decimal("3333.33"),
        "compliant_out_of_pocket": Decimal("55.55"),
    }
    for members in (1, 2, 3, 6, 7, 9, 11):
        cases.append((big, Decimal("24000.50"), members))
        cases.append(({k: -v for k, v in big.items()}, Decimal("-0.01"), members))
        cases.append(({"wage": Decimal("1"), "property_income": Decimal("2.5")}, Decimal("0"), members))
    for amounts, transfer, members in cases:
        income = _income(amounts)
        for payout in (True, False):
            got = _calendar_year_per_capita(income, transfer, members=members, include_payout=payout)
            want = _rule(income, transfer, members, payout)
            assert (str(got), type(got)) == (str(want), type(want)), (amounts, transfer, members, payout)


def test_calendar_year_per_capita_leaves_other_records_to_the_rule() -> None:
    """Not one calendar year, no members, or an amount that is not whole fen: the export asks the rule."""
    from fangpin.registry.io.export import _UNKNOWN, _calendar_year_per_capita

    year = _income({"wage": Decimal("1200.00")})
    assert _calendar_year_per_capita(year, Decimal(0), members=3, include_payout=True) == Decimal("400.00")
    half = {**year, "period_end": dt.date(2024, 6, 30)}
    assert _calendar_year_per_capita(half, Decimal(0), members=3, include_payout=True) is _UNKNOWN
    from_july = {**year, "period_start": dt.date(2024, 7, 1), "period_end": dt.date(2025, 6, 30)}
    assert _calendar_year_per_capita(from_july, Decimal(0), members=3, include_payout=True) is _UNKNOWN
    assert _calendar_year_per_capita(year, Decimal(0), members=0, include_payout=True) is _UNKNOWN
    milli = _income({"wage": Decimal("1200.005")})
    assert _calendar_year_per_capita(milli, Decimal(0), members=3, include_payout=True) is _UNKNOWN
    odd_payout = _income({"insurance_payout": Decimal("0.001")})
    assert _calendar_year_per_capita(odd_payout, Decimal(0), members=1, include_payout=True) is _UNKNOWN
    assert _calendar_year_per_capita(odd_payout, Decimal(0), members=1, include_payout=False) == Decimal(
        "0.00"
    )


def test_each_columns_formatter_is_the_reference_fmt() -> None:
    """``_formatter`` (one function per column, the common type first) against ``_RowBuilder._fmt`` for every
    column and every kind of value a row holds: blank, bools, ints, decimals, texts, dates."""
    from fangpin.registry.io.export import _formatter

    values = [None, True, False, 0, 3, -2, Decimal("0"), Decimal("1.5"), Decimal("-12.345"), Decimal("7")]
    values += ["", "是", "否", "M", "F", "x", dt.date(2024, 2, 29), 2.5]
    for col in EXPORT_COLUMNS:
        f = _formatter(col.kind, col.key)
        for v in values:
            got, want = f(v), _RowBuilder._fmt(col.kind, col.key, v)
            assert (got, type(got)) == (want, type(want)), (col.header, v)


def _region_names_before_round_8(codes: set[str]) -> dict[str, tuple[str, str, str]]:
    """``_region_names`` as it was: one select_related read of the villages, their towns and counties."""
    from fangpin.regions.models import Region
    from fangpin.registry.io.export import national_village_name

    out = {}
    for v in Region.objects.filter(code__in=codes).select_related("parent", "parent__parent"):
        town = v.parent
        county = town.parent if town else None
        out[v.code] = (
            county.name if county else "",
            town.name if town else "",
            national_village_name(v.name),
        )
    return out


@pytest.mark.django_db
def test_region_names_from_the_tree_cache_are_the_select_related_reads(personas) -> None:
    """The 县/乡/村 cells from ``regions.selectors.region_path_names`` (the process's division-tree cache,
    round 8) against the select_related read it replaced, for every village, a town and a county code; a
    renamed village is seen at once (the cache is cleared when a region is saved)."""
    from fangpin.regions.models import Region
    from fangpin.registry.io.export import _region_names
    from fangpin.testing import factories as f

    codes = set(Region.objects.values_list("code", flat=True))
    assert len(codes) > 3
    assert _region_names(codes) == _region_names_before_round_8(codes)
    v = Region.objects.get(code=f.VILLAGE_A1)
    v.name = "新名村民委员会"
    v.save()
    assert _region_names({v.code}) == _region_names_before_round_8({v.code})
    assert _region_names({v.code})[v.code][2] == "新名村"


def test_sheet_rows_handed_to_the_zip_in_pieces_are_the_same_bytes(tmp_path, monkeypatch) -> None:
    """``_SheetStream`` hands its rows to the zip stream in pieces of ``_FLUSH`` bytes (round 8): the sheet is
    byte for byte the one written a row at a time, for pieces smaller than a row, a few rows and the sheet."""
    import zipfile

    from fangpin.registry.io import xlsx

    rows = [
        [f"第{i}行", Decimal(i), "是" if i % 2 else "否", "a&b", dt.date(2024, 1, 1 + i % 28)]
        for i in range(500)
    ]
    sheets = []
    for flush in (1, 300, 10_000, 1 << 30):
        monkeypatch.setattr(xlsx, "_FLUSH", flush)
        path = tmp_path / f"{flush}.xlsx"
        xlsx.write_xlsx(
            path, title="标题", subtitle="副标题", headers=["一", "二", "三", "四", "五"], rows=rows
        )
        with zipfile.ZipFile(path) as z:
            sheets.append(z.read("xl/worksheets/sheet1.xml"))
    assert len(set(sheets)) == 1 and sheets[0].count(b"<row ") == 503
    assert sheets[0].endswith(b"</sheetData></worksheet>")


_AWKWARD = [
    '=HYPERLINK("http://x","点我")',
    "+86 139",
    "-500.00",
    "-1+1",
    "@SUM(A1)",
    "\t制表",
    "\r回车",
    "a&b<c>d\"'",
    "\x00零\x0b\x1f",
    "",
    None,
    "王" * 300,
    "　全角空格",
]


def _awkward_members(masked: bool) -> tuple[dict, list[dict], dict]:
    """A household and members whose every field holds one of ``_AWKWARD`` in turn (formula-like texts,
    controls the import refuses, escapes, blanks, long Chinese), beside numbers, dates and booleans."""
    hh, p, income, mon, _ = _fixture(filled=True)
    blank_hh, blank, _, _, _ = _fixture(filled=False)
    members = [p, blank]
    for n in range(len(_AWKWARD)):
        m = {**p, "national_facts": dict(p["national_facts"])}
        for j, key in enumerate(sorted(k for k, v in p.items() if isinstance(v, str) or v is None)):
            m[key] = _AWKWARD[(n + j) % len(_AWKWARD)]
        for j, key in enumerate(sorted(m["national_facts"])):
            m["national_facts"][key] = _AWKWARD[(n + 2 * j) % len(_AWKWARD)]
        m["id_type"] = "居民身份证"
        members.append(m)
    for j, key in enumerate(sorted(k for k, v in hh.items() if isinstance(v, str) and k != "village_id")):
        hh[key] = _AWKWARD[j % len(_AWKWARD)]
    hh["national_facts"] = {
        k: _AWKWARD[j % len(_AWKWARD)] for j, k in enumerate(sorted(hh["national_facts"]))
    }
    return hh, members, income | {"wage": Decimal("-12.5"), "production_business": 7}


@pytest.mark.parametrize("masked", [True, False])
def test_generated_cells_are_the_per_column_cells(masked: bool) -> None:
    """The generated functions of the column plan (``_generated``, what ``household_rows`` and
    ``household_pieces`` use) give, for every member, the values of the per-column cells (``row``) and of the
    reference loop — awkward texts, blanks and None, numbers and dates included."""
    hh, members, income = _awkward_members(masked)
    _, _, _, mon, _ = _fixture(filled=True)
    names = ("安阳市龙安区", "=马家乡", "王家岗村&<>")
    b = _RowBuilder(masked=masked, income_year=None, on=dt.date(2026, 12, 1), monitoring={hh["id"]: mon})
    for derived, inc in ((DERIVED_FILLED, income), ({"g_water": "否", "per_capita": None}, None)):
        got = [list(r) for r in b.household_rows(hh, members, names, derived, inc)]
        assert got == [b.row(hh, m, names, derived, inc) for m in members]
        assert got == [reference_row(b, hh, m, names, derived, inc) for m in members]
        types = [[type(v) for v in r] for r in got]
        assert types == [[type(v) for v in b.row(hh, m, names, derived, inc)] for m in members]


@pytest.mark.parametrize("masked", [True, False])
def test_household_pieces_write_the_bytes_of_household_rows(tmp_path, masked: bool) -> None:
    """The xlsx path of the export (``household_pieces`` into ``_SheetStream.pieces``) writes, byte for byte,
    the sheet ``_SheetStream.values`` writes for ``household_rows`` (the CSV's rows): the formula guard (a
    leading '), the XML escapes and the replaced control characters the same, blank cells empty, numbers
    as text, over several households so the remembered cells are reused."""
    import zipfile

    from fangpin.registry.io import xlsx

    hh, members, income = _awkward_members(masked)
    _, _, _, mon, _ = _fixture(filled=True)
    hh2 = {**hh, "id": 8, "phone": "=1+1", "national_facts": {}}
    b = _RowBuilder(masked=masked, income_year=None, on=dt.date(2026, 12, 1), monitoring={hh["id"]: mon})
    households = [
        (hh, members, ("安阳市龙安区", "马家乡", "王家岗村"), DERIVED_FILLED, income),
        (hh2, members[::-1], ("=县", "@乡", "村&"), {"g_water": "否", "per_capita": None}, None),
        (hh, members[:1], ("安阳市龙安区", "马家乡", "王家岗村"), DERIVED_FILLED, income),
    ]
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        with xlsx._SheetStream(z, 1) as one:
            for h in households:
                for r in b.household_rows(*h):
                    one.values(r)
        with xlsx._SheetStream(z, 2) as two:
            for h in households:
                for pieces in b.household_pieces(two, *h):
                    two.pieces(pieces)
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        a, c = z.read("xl/worksheets/sheet1.xml"), z.read("xl/worksheets/sheet2.xml")
    assert a == c
    assert a.count(b"<row ") == 2 * len(members) + 1
    assert b"'=HYPERLINK" in a and b">=HYPERLINK" not in a and b"'@SUM" in a and b">-500.00<" in a
    assert b"a&amp;b&lt;c&gt;d" in a and b"\xef\xbf\xbd" in a and b"\x00" not in a and b"\x0b" not in a
    assert ("王" * 300).encode() in a


def test_joints_are_the_row_of_values() -> None:
    """``xlsx.joints``: a row of tails joined by its row number is the row ``values`` writes."""
    import io
    import zipfile

    from fangpin.registry.io import xlsx

    for n in (0, 1, 2, 27, 140, 800):
        values = [f"v{i}" if i % 3 else "" for i in range(n)]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z, xlsx._SheetStream(z, 1) as ws:
            ws.values(values)
            j = xlsx.joints(n)
            ws.pieces([*j[:2], *(t + x for t, x in zip(ws.tails(values), j[2:], strict=True))])
        with zipfile.ZipFile(buf) as z:
            body = z.read("xl/worksheets/sheet1.xml").split(b"<sheetData>")[1]
        first, second = body.split(b"</row>")[:2]
        assert first.replace(b'"1"', b'"X"').replace(b'1"', b'X"') == second.replace(b'"2"', b'"X"').replace(
            b'2"', b'X"'
        )


def test_plain_text_cells_are_the_cell_value_cells(tmp_path) -> None:
    """A text ``_SheetStream._tail`` writes without ``cell_value`` (``xlsx._PLAIN_TEXT``) is one whose cell
    ``row([cell_value(v)])`` writes the same: every character below U+0800 and some beyond, alone, first,
    last and inside a text."""
    import zipfile

    from fangpin.registry.io import xlsx

    chars = [chr(c) for c in range(0x800)] + ["王", "\u3000", "\ufffd", "\U0001f600", "\u2028"]
    texts = [t for c in chars for t in (c, c + "a", "a" + c, "a" + c + "b", c + c)]
    rows = [texts[i : i + 100] for i in range(0, len(texts), 100)]
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        with xlsx._SheetStream(z, 1) as a:
            for r in rows:
                a.values(r)
        with xlsx._SheetStream(z, 2) as b:
            for r in rows:
                b.row([xlsx.cell_value(v) for v in r])
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert z.read("xl/worksheets/sheet1.xml") == z.read("xl/worksheets/sheet2.xml")
    assert sum(1 for t in texts if xlsx._PLAIN_TEXT.fullmatch(t)) > len(texts) * 0.8
