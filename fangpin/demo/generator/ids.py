"""ID numbers for generated persons: the county's area code, the person's birth date and gender, a
checksum that passes (core.ids.make_id_number), unique within the county.

The 3-digit order code allows 500 numbers per (area, day, gender); a counter per county walked in
village-code order hands them out, so the result is deterministic. Counties have distinct area codes,
so a province never collides either.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from fangpin.core.ids import check_digit


class IdAllocator:
    def __init__(self, area_code: str) -> None:
        self.area = area_code
        self.next: dict[tuple[dt.date, str], int] = defaultdict(int)
        self._ymd: dict[dt.date, str] = {}  # a birth date's 8 digits (strftime is the slow part)

    def allocate(self, birth: dt.date, gender: str) -> tuple[str, dt.date]:
        """Returns (id_number, birth_date). In the (never seen) case of 500 people of one gender born
        on one day in one county, the birth date moves a day so the number stays valid and unique."""
        while self.next[(birth, gender)] >= 500:
            birth -= dt.timedelta(days=1)
        seq = self.next[(birth, gender)]
        self.next[(birth, gender)] = seq + 1
        ymd = self._ymd.get(birth)
        if ymd is None:
            ymd = self._ymd[birth] = f"{birth:%Y%m%d}"
        # core.ids.make_id_number, with the date's digits cached
        first17 = f"{self.area}{ymd}{(seq % 500) * 2 + (1 if gender == 'M' else 0):03d}"
        return first17 + check_digit(first17), birth

    def assign(self, persons: list[dict[str, Any]]) -> None:
        # ``allocate`` inline (the same numbers, in the same order): one call per person was its cost
        nxt, ymd_of, area, day = self.next, self._ymd, self.area, dt.timedelta(days=1)
        for x in persons:
            birth, gender = x["birth_date"], x["gender"]
            key = (birth, gender)
            seq = nxt[key]
            while seq >= 500:
                birth -= day
                key = (birth, gender)
                seq = nxt[key]
            nxt[key] = seq + 1
            ymd = ymd_of.get(birth)
            if ymd is None:
                ymd = ymd_of[birth] = f"{birth:%Y%m%d}"
            first17 = f"{area}{ymd}{(seq % 500) * 2 + (1 if gender == 'M' else 0):03d}"
            x["id_number"], x["birth_date"] = first17 + check_digit(first17), birth
            if x["disability_category"]:
                x["disability_cert_no"] = f"{x['id_number']}{x['disability_category']}{x['disability_grade']}"
