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

from fangpin.core.ids import CHECK_CHARS, make_id_number


class IdAllocator:
    def __init__(self, area_code: str) -> None:
        self.area = area_code
        self.next: dict[tuple[dt.date, str], int] = defaultdict(int)

    def allocate(self, birth: dt.date, gender: str) -> tuple[str, dt.date]:
        """Returns (id_number, birth_date). In the (never seen) case of 500 people of one gender born
        on one day in one county, the birth date moves a day so the number stays valid and unique."""
        while self.next[(birth, gender)] >= 500:
            birth -= dt.timedelta(days=1)
        seq = self.next[(birth, gender)]
        self.next[(birth, gender)] = seq + 1
        return make_id_number(self.area, birth, seq, gender), birth

    def assign(self, persons: list[dict[str, Any]]) -> None:
        """``allocate`` for each person, inlined (the same numbers as ``make_id_number``: the area, the
        birth date, the order code of seq and gender, the GB 11643 check character)."""
        nxt, area = self.next, self.area
        for x in persons:
            birth, gender = x["birth_date"], x["gender"]
            key = (birth, gender)
            seq = nxt[key]
            if seq >= 500:
                x["id_number"], x["birth_date"] = self.allocate(birth, gender)
            else:
                nxt[key] = seq + 1
                first17 = (
                    f"{area}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq * 2 + (gender == 'M'):03d}"
                )
                # the weights of GB 11643 are 2**(17-i) mod 11 and 13 ≡ 2 (mod 11): core.ids.check_digit
                x["id_number"] = first17 + CHECK_CHARS[2 * int(first17, 13) % 11]
            if x["disability_category"]:
                x["disability_cert_no"] = f"{x['id_number']}{x['disability_category']}{x['disability_grade']}"
