"""（自定义）行政村信息: facts and counts per 行政村 (national export, header on row 3, join keys 县 / 乡 / 村).

Columns as a provincial checker reads them (Gzuwkj/fuping countryside/*.py, spelled exactly so, including
the blank in “行政村文化（图书）室个数 （个）”), then five more counts of the national village record (legacy
AD01 field labels: 饮水困难户数, 自然村（村民小组）数, 劳动力人数, 外出务工人数, 通宽带户数（户）) stored when a file has
them; 村代码 is fangpin's extra column (12-digit NBS code) so an export re-imports without name matching.
"""

from __future__ import annotations

from .base import FileKind, KColumn

KIND = "village_profile"


def _count(key: str, header: str, *aliases: str) -> KColumn:
    return KColumn(key, header, "int", key, aliases=aliases)


COLUMNS: tuple[KColumn, ...] = (
    KColumn("seq", "序号", not_stored="行序号，导出时重新编号"),
    KColumn("county", "县", aliases=("县(市、区、旗)", "县（市、区）", "县(市、区)"), not_stored="定位行政村"),
    KColumn("township", "乡", aliases=("乡(镇)", "乡镇", "乡（镇、街道）"), not_stored="定位行政村"),
    KColumn("village", "村", aliases=("行政村", "村名称"), not_stored="定位行政村"),
    KColumn("delisted", "是否出列", "bool", "delisted", aliases=("是否出列村", "贫困村是否出列")),
    _count("households_total", "总户数", "户数"),
    _count("population_total", "总人口数", "总人口", "人口数"),
    KColumn("collective_income_10k", "村级集体经济收入（万元）", "decimal", "collective_income_10k",
            aliases=("村级集体经济收入", "村集体经济收入（万元）")),
    _count("primary_schools", "村小学（个数）", "村小学个数", "村小学（个）"),
    _count("pension_insured_persons", "参加城乡居民基本养老保险人数", "参加城乡居民养老保险人数"),
    KColumn("bus_service", "是否通客运班车", "bool", "bus_service", aliases=("通客运班车",)),
    _count("clinics", "行政村卫生室个数", "村卫生室个数", "卫生室个数"),
    _count("public_toilets", "行政村公共卫生厕所个数", "公共卫生厕所个数"),
    _count("doctors", "行政村执业（助理）医师（人）", "执业（助理）医师（人）", "执业（助理）医师", "村医人数"),
    _count("waste_points", "行政村生产生活垃圾集中堆放点个数（个）", "垃圾集中堆放点个数", "生产生活垃圾集中堆放点个数（个）"),
    _count("cultural_rooms", "行政村文化（图书）室个数 （个）", "文化（图书）室个数", "行政村文化（图书）室个数"),
    _count("dibao_households", "低保户数"),
    _count("dibao_persons", "低保人口数", "低保人数"),
    _count("tekun_persons", "特困供养人口数", "特困人口数", "特困供养人数"),
    _count("disabled_persons", "残疾人口数", "残疾人数"),
    _count("dangerous_house_households", "危房户数"),
    _count("unsafe_water_households", "未实现饮水安全户数", "饮水不安全户数"),
    KColumn("paved_road_to_township", "到乡镇是否通沥青（水泥）路", "bool", "paved_road_to_township",
            aliases=("是否通沥青（水泥）路", "到乡镇是否通硬化路")),
    # further counts of the national village record (legacy AD01 aad332/aad006/aad017/aad018/aad411)
    _count("water_difficult_households", "饮水困难户数", "饮水困难户数（户）"),
    _count("natural_villages", "自然村（村民小组）数", "自然村数", "村民小组数", "自然村（村民小组）个数"),
    _count("labour_persons", "劳动力人数", "劳动力人口数"),
    _count("migrant_workers", "外出务工人数", "外出务工人口数"),
    _count("broadband_households", "通宽带户数（户）", "通宽带户数"),
    # fangpin's extra column, after the national ones
    KColumn("village_code", "村代码", aliases=("行政村代码", "统计用区划代码", "区划代码"), max_len=12,
            not_stored="定位行政村"),
)  # fmt: skip

SPEC = FileKind(
    kind=KIND,
    title="（自定义）行政村信息",
    columns=COLUMNS,
    required_keys=("village",),
    min_known=4,
)


# --------------------------------------------------------------------------- plan (checks against the registry)

E_DUPLICATE_VILLAGE = "duplicate_village"


def plan(*, actor, table, cells) -> tuple[list, dict, list, dict]:
    """(planned records, existing records by key, rejects, details): each row names one village of the
    actor's scope (by 村代码, or 县/乡/村 names as ``io.villages`` matches them), at most once per file."""
    from fangpin.core.errors import RowError
    from fangpin.registry.models import VillageProfile

    from ..villages import VillageIndex
    from .store import Planned, diff_counts

    rejects: list = []
    index = VillageIndex(actor.scope_prefix or "")
    stored = [c for c in SPEC.stored if c.key in table.columns]
    first: dict[str, int] = {}
    planned: list[Planned] = []
    for i, v in enumerate(cells.values):
        row = table.row_number(i)
        code, err, msg = index.resolve(
            v.get("county") or "",
            v.get("township") or "",
            v.get("village") or "",
            v.get("village_code") or "",
        )
        if code is None:
            rejects.append(RowError(row, "村", msg, v.get("village") or v.get("village_code") or "", err))
            continue
        if code in first:
            rejects.append(RowError(row, "村", f"同一行政村在文件中出现多次（另见第{first[code]}行）", v.get("village") or code, E_DUPLICATE_VILLAGE))  # fmt: skip
            continue
        first[code] = row
        planned.append(Planned(key=code, row=row, values={c.field: v.get(c.key) for c in stored}))
    existing = {
        o.village_id: o for o in VillageProfile.objects.filter(village_id__in=[p.key for p in planned])
    }
    counts = diff_counts(VillageProfile, planned, existing)
    details = {
        "villages_counts": {
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
        }
    }
    return planned, existing, rejects, details


def export_rows(*, actor, region_code: str | None, masked: bool):
    """Headers and rows of the 行政村信息 export (no personal data: ``masked`` changes nothing)."""
    from fangpin.accounts.scope import scoped
    from fangpin.registry.models import VillageProfile

    from .base import fmt

    qs = scoped(actor, VillageProfile.objects.all()).select_related("village__parent__parent")
    if region_code:
        qs = qs.filter(village__code__startswith=region_code)
    objs = list(qs.order_by("village_id"))
    headers = [c.header for c in COLUMNS]

    def rows():
        for n, o in enumerate(objs, start=1):
            town = o.village.parent
            ident = {
                "seq": str(n),
                "county": town.parent.name if town and town.parent else "",
                "township": town.name if town else "",
                "village": o.village.name,
                "village_code": o.village_id,
            }
            yield [ident[c.key] if not c.field else fmt(c, getattr(o, c.field)) for c in COLUMNS]

    return headers, rows(), len(objs)
