"""县/乡/村 names (or a 村代码) of an import row → the 12-digit village code, within the actor's scope."""

from __future__ import annotations

from collections import defaultdict

from fangpin.regions.models import Level, Region

from .columns import normalize_area_name, normalize_village_name

E_VILLAGE = "unknown_village"
E_VILLAGE_AMBIGUOUS = "ambiguous_village"


class VillageIndex:
    """Every village under ``prefix`` indexed by code and by normalised (县, 乡, 村) names."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.codes: set[str] = set()
        self.by_names: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        self.by_tv: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.by_v: dict[str, list[str]] = defaultdict(list)
        qs = Region.objects.filter(level=Level.VILLAGE, code__startswith=prefix).select_related(
            "parent", "parent__parent"
        )
        for v in qs:
            town = v.parent
            county = town.parent if town else None
            c = normalize_area_name(county.name if county else "")
            t = normalize_area_name(town.name if town else "")
            n = normalize_village_name(v.name)
            self.codes.add(v.code)
            self.by_names[(c, t, n)].append(v.code)
            self.by_tv[(t, n)].append(v.code)
            self.by_v[n].append(v.code)

    def resolve(self, county: str, township: str, village: str, code: str) -> tuple[str | None, str, str]:
        """(code, error code, Chinese message)."""
        if code:
            if code in self.codes:
                return code, "", ""
            return None, E_VILLAGE, f"村代码“{code}”不存在或不在您的管辖范围内"
        if not village:
            return None, E_VILLAGE, "缺少村名称（或村代码），无法确定所属行政村"
        n = normalize_village_name(village)
        t = normalize_area_name(township)
        c = normalize_area_name(county)
        if c and t:
            found = self.by_names.get((c, t, n), [])
        elif t:
            found = self.by_tv.get((t, n), [])
        else:
            found = self.by_v.get(n, [])
        where = "".join(x for x in (county, township, village) if x)
        if len(found) == 1:
            return found[0], "", ""
        if not found:
            return None, E_VILLAGE, f"行政村“{where}”不存在或不在您的管辖范围内"
        return None, E_VILLAGE_AMBIGUOUS, f"行政村“{where}”有多个同名村，请填写乡镇名称或村代码"
