"""（乡村建设）户信息: the household's production and living conditions (national export, header on row 3).

Join keys as a provincial checker reads the file (Gzuwkj/fuping main.py): 县(市、区、旗) / 乡(镇) / 行政村 /
户编号 / 证件号码; that checker also reads 户类型 and 卫生厕所是否能正常使用. The condition columns are those of
the national system's 乡村建设 household form, in its order (a public form-filling user script for
cpadisc2.cpad.gov.cn lists them: 入户道路是否硬化, 是否通自来水, 间隔是否低于24小时, 是否饮水安全, 是否使用清洁能源,
使用清洁能源的类型 + 其他备注, 是否危房, 是否有淋浴设施, 是否有卫生户厕, 卫生厕所类型, 卫生厕所是否能正常使用, 卫生户厕是否
入室/入院, 是否进行过庭院美化), then the production/living indicators of the national household record (legacy
AC01 aac301-aac322: 通电, 入户路类型, 与村主干路距离, 住房面积, 危房级别, 饮水困难, 燃料, the seven land areas). A
province's file may order or name them differently; columns are matched by header and aliases.

A row per household, or a row per member with the household's facts repeated (as the person-level
national files do): the rows of one 户编号 must agree on every stored column.
"""

from __future__ import annotations

from .base import FileKind, KColumn

KIND = "living_conditions"

_LAND = "（亩）"


def _area(key: str, header: str, field: str, *aliases: str) -> KColumn:
    return KColumn(key, header, "decimal", field, aliases=(header.removesuffix(_LAND), *aliases))


def _flag(key: str, header: str, *aliases: str) -> KColumn:
    return KColumn(key, header, "bool", key, aliases=aliases)


COLUMNS: tuple[KColumn, ...] = (
    KColumn("seq", "序号", not_stored="行序号，导出时重新编号"),
    KColumn("county", "县(市、区、旗)", aliases=("县", "县（市、区）", "县(市、区)"), not_stored="按户编号核对所属县"),
    KColumn("township", "乡(镇)", aliases=("乡", "乡镇", "乡（镇、街道）"), not_stored="按户编号核对所属乡镇"),
    KColumn("village", "行政村", aliases=("村",), not_stored="按户编号核对所属行政村"),
    KColumn("natural_village", "自然村", "text", "natural_village", aliases=("自然村（组）", "村民小组")),
    KColumn("household_no", "户编号", required=True, max_len=32, not_stored="关联户档案"),
    KColumn("head_name", "户主姓名", aliases=("姓名",), not_stored="户档案的户主姓名为准"),
    KColumn("id_number", "证件号码", aliases=("身份证号码", "身份证号", "户主证件号码"), max_len=22,
            not_stored="核对为该户成员；证件号码只存于户档案"),
    KColumn("household_type", "户类型", max_len=20, not_stored="户档案的户类型为准（不一致时在导入结果中提示）"),
    # the 乡村建设 household form of the national system (cpadisc2.cpad.gov.cn), in its order
    _flag("road_hardened", "入户道路是否硬化", "入户路是否硬化"),
    _flag("tap_water", "是否通自来水", "是否通自来水（入户）", "通自来水"),
    _flag("water_interval_under_24h", "间隔是否低于24小时", "供水间隔是否低于24小时", "停水间隔是否低于24小时"),
    _flag("safe_drinking_water", "是否饮水安全", "是否解决安全饮用水", "饮水是否安全"),
    _flag("clean_energy", "是否使用清洁能源"),
    KColumn("clean_energy_types", "使用清洁能源的类型", "text", "clean_energy_types", max_len=50,
            aliases=("清洁能源类型",)),
    KColumn("clean_energy_note", "其他备注", "text", "clean_energy_note", max_len=100,
            aliases=("清洁能源其他备注",)),
    _flag("is_dangerous_house", "是否危房", "是否危房户"),
    _flag("has_shower", "是否有淋浴设施", "有无淋浴设施"),
    _flag("has_sanitary_toilet", "是否有卫生户厕", "是否有卫生厕所", "有无卫生厕所"),
    KColumn("toilet_type", "卫生厕所类型", "text", "toilet_type", max_len=30, aliases=("卫生户厕类型",)),
    _flag("toilet_usable", "卫生厕所是否能正常使用", "卫生厕所能否正常使用"),
    _flag("toilet_indoor", "卫生户厕是否入室"),
    _flag("toilet_in_yard", "卫生户厕是否入院"),
    _flag("courtyard_beautified", "是否进行过庭院美化", "是否庭院美化"),
    # production and living indicators of the national household record (AC01 aac301-aac322)
    _flag("has_electricity", "是否通生活用电", "是否通电", "通生活用电"),
    _flag("has_production_power", "是否通生产用电", "通生产用电"),
    KColumn("road_type", "入户路类型", "text", "road_type", max_len=20),
    KColumn("distance_to_main_road_km", "与村主干路距离（公里）", "decimal", "distance_to_main_road_km",
            aliases=("与村主干路距离", "与村主干路距离(km)", "距村主干路距离（公里）")),
    KColumn("house_area_m2", "住房面积（平方米）", "decimal", "house_area_m2",
            aliases=("住房面积", "住房面积(㎡)", "住房面积（㎡）")),
    KColumn("dangerous_house_grade", "危房级别", "enum", "dangerous_house_grade", choices=("C级", "D级"),
            value_aliases={"C": "C级", "D": "D级", "c": "C级", "d": "D级", "C级危房": "C级", "D级危房": "D级",
                           "局部危房": "C级", "整幢危房": "D级"}),
    _flag("water_difficult", "饮水是否困难", "是否饮水困难"),
    KColumn("main_fuel", "主要燃料类型", "text", "main_fuel", max_len=20, aliases=("主要燃料",)),
    _area("cultivated_land_mu", "耕地面积（亩）", "cultivated_land_mu"),
    _area("irrigated_land_mu", "有效灌溉面积（亩）", "irrigated_land_mu"),
    _area("forest_land_mu", "林地面积（亩）", "forest_land_mu"),
    _area("grain_for_green_mu", "退耕还林面积（亩）", "grain_for_green_mu"),
    _area("orchard_mu", "林果面积（亩）", "orchard_mu"),
    _area("pasture_mu", "牧草地面积（亩）", "pasture_mu", "牧草地面积"),
    _area("water_surface_mu", "水面面积（亩）", "water_surface_mu", "水面面积"),
)  # fmt: skip

# 户类型 is only compared with the household file (never refused: it is not stored here)
HOUSEHOLD_TYPE_SPELLINGS = {"脱贫人口": "脱贫户", "已脱贫户": "脱贫户", "农户": "一般农户"}

SPEC = FileKind(
    kind=KIND,
    title="（乡村建设）户信息",
    columns=COLUMNS,
    required_keys=("household_no",),
    min_known=5,
)

# fields where the registry's household row states the same fact (import counts disagreements)
SAME_FACT_ON_HOUSEHOLD = (
    "has_electricity", "road_hardened", "distance_to_main_road_km", "house_area_m2", "has_sanitary_toilet",
    "cultivated_land_mu", "irrigated_land_mu", "forest_land_mu", "grain_for_green_mu", "orchard_mu",
    "pasture_mu", "water_surface_mu",
)  # fmt: skip


# --------------------------------------------------------------------------- plan (checks against the registry)

E_UNKNOWN_HOUSEHOLD = "unknown_household"
E_VILLAGE_MISMATCH = "village_mismatch"
E_NOT_MEMBER = "person_not_in_household"
E_CONFLICT = "household_conflict"


CHUNK = 5000


def _chunks(items: list, n: int = CHUNK):
    for i in range(0, len(items), n):
        yield items[i : i + n]


def plan(*, actor, table, cells) -> tuple[list, dict, list, dict]:
    """(planned records, existing records by key, rejects, details) for a converted 户信息 table. Every
    row is checked before anything is written: the 户编号 is a household in the actor's scope, the 县/乡/村
    cells name its village, a full 证件号码 is one of its people, and the rows of one household agree."""
    from fangpin.accounts.scope import scoped
    from fangpin.core.errors import RowError
    from fangpin.core.ids import normalize_raw
    from fangpin.regions.models import Region
    from fangpin.registry.models import Household, HouseholdLivingConditions, Person

    from ..columns import normalize_area_name, normalize_village_name
    from .store import Planned, diff_counts

    rejects: list = []
    stored = [c for c in SPEC.stored if c.key in table.columns]
    nos = sorted({v["household_no"] for v in cells.values if v.get("household_no")})
    fields = ["id", "household_no", "household_type", "village_id", *SAME_FACT_ON_HOUSEHOLD]
    households: dict[str, dict] = {}
    for chunk in _chunks(nos):
        qs = scoped(actor, Household.objects.filter(household_no__in=chunk))
        households.update((h["household_no"], h) for h in qs.values(*fields))
    # names of each village, its township and county: raw for messages, normalised for comparison
    places: dict[str, tuple[tuple[str, str], ...]] = {}
    codes = sorted({h["village_id"] for h in households.values()})
    for chunk in _chunks(codes):
        for r in Region.objects.filter(code__in=chunk).values(
            "code", "name", "parent__name", "parent__parent__name"
        ):
            names = (r["name"], r["parent__name"] or "", r["parent__parent__name"] or "")
            norms = (
                normalize_village_name(names[0]),
                normalize_area_name(names[1]),
                normalize_area_name(names[2]),
            )
            places[r["code"]] = tuple(zip(names, norms, strict=True))
    people: dict[int, set[str]] = {}
    if "id_number" in table.columns:
        ids = [h["id"] for h in households.values()]
        for chunk in _chunks(ids):
            for hid, idn in Person.objects.filter(household_id__in=chunk).values_list(
                "household_id", "id_number"
            ):
                people.setdefault(hid, set()).add(idn)
    said_norm: dict[tuple[str, str], str] = {}

    def norm(key: str, said: str) -> str:
        if (key, said) not in said_norm:
            f = normalize_village_name if key == "village" else normalize_area_name
            said_norm[(key, said)] = f(said)
        return said_norm[(key, said)]

    first: dict[str, tuple[int, dict]] = {}
    bad_cells = {(r.row, r.column) for r in cells.rejects}
    type_mismatch = 0
    for i, v in enumerate(cells.values):
        row = table.row_number(i)
        no = v.get("household_no")
        if not no:
            continue
        hh = households.get(no)
        if hh is None:
            rejects.append(RowError(row, "户编号", f"户编号“{no}”在户档案中不存在或不在您的管辖范围内，请先导入监测对象信息", no, E_UNKNOWN_HOUSEHOLD))  # fmt: skip
            continue
        place = places.get(hh["village_id"], (("", ""),) * 3)
        for (key, header), (actual, actual_norm) in zip(
            (("village", "行政村"), ("township", "乡(镇)"), ("county", "县(市、区、旗)")), place, strict=True
        ):
            said = v.get(key)
            if said and norm(key, said) != actual_norm:
                rejects.append(RowError(row, header, f"户编号“{no}”在户档案中属于{actual}，与本行的“{said}”不一致", said, E_VILLAGE_MISMATCH))  # fmt: skip
        idn = v.get("id_number")
        if idn and "*" not in idn and normalize_raw(idn)[:18] not in people.get(hh["id"], set()):
            rejects.append(
                RowError(row, "证件号码", f"证件号码不是户编号“{no}”的家庭成员", idn, E_NOT_MEMBER)
            )
        said_type = v.get("household_type")
        if said_type and HOUSEHOLD_TYPE_SPELLINGS.get(said_type, said_type) != hh["household_type"]:
            type_mismatch += 1
        values = {c.field: v.get(c.key) for c in stored}
        if no in first:
            seen_row, seen = first[no]
            for c in stored:
                if (row, c.header) in bad_cells or (seen_row, c.header) in bad_cells:
                    continue  # a bad cell is reported once, in its own row; it does not blame the others
                if values[c.field] != seen[c.field]:
                    rejects.append(RowError(row, c.header, f"同一户各行的“{c.header}”不一致（另见第{seen_row}行）", table.rows[i][table.columns[c.key]], E_CONFLICT))  # fmt: skip
            continue
        first[no] = (row, values)
    planned = [Planned(key=households[no]["id"], row=r, values=vals) for no, (r, vals) in first.items()]
    existing: dict = {}
    for chunk in _chunks([p.key for p in planned]):
        existing.update(
            (o.household_id, o) for o in HouseholdLivingConditions.objects.filter(household_id__in=chunk)
        )
    by_id = {h["id"]: h for h in households.values()}
    disagree: dict[str, int] = {}
    for p in planned:
        hh = by_id[p.key]
        for f in SAME_FACT_ON_HOUSEHOLD:
            if f in p.values and p.values[f] is not None and hh[f] != p.values[f]:
                disagree[f] = disagree.get(f, 0) + 1
    counts = diff_counts(HouseholdLivingConditions, planned, existing)
    details = {
        "households_counts": {
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
        },
        "household_type_differs": type_mismatch,
        "differs_from_household": {SPEC.column(k).header: n for k, n in disagree.items()},
    }
    return planned, existing, rejects, details


def export_rows(*, actor, region_code: str | None, masked: bool):
    """Headers and rows of the 户信息 export: every household in scope that has living conditions."""
    from fangpin.accounts.scope import scoped
    from fangpin.core.masking import mask_id_number
    from fangpin.registry.choices import Relation
    from fangpin.registry.models import HouseholdLivingConditions, Person

    from .base import fmt

    qs = scoped(actor, HouseholdLivingConditions.objects.all()).select_related(
        "household__village__parent__parent"
    )
    if region_code:
        qs = qs.filter(household__village__code__startswith=region_code)
    objs = list(qs.order_by("household__village_id", "household__household_no"))
    heads: dict = {}
    for chunk in _chunks([o.household_id for o in objs]):
        heads.update(
            (p.household_id, p)
            for p in Person.objects.filter(household_id__in=chunk, relation=Relation.HEAD, is_member=True)
        )
    headers = [c.header for c in COLUMNS]

    def rows():
        for n, o in enumerate(objs, start=1):
            hh = o.household
            town = hh.village.parent
            head = heads.get(hh.pk)
            idn = head.id_number if head else ""
            ident = {
                "seq": str(n),
                "county": town.parent.name if town and town.parent else "",
                "township": town.name if town else "",
                "village": hh.village.name,
                "household_no": hh.household_no,
                "head_name": head.name if head else "",
                "id_number": mask_id_number(idn) if masked and idn else idn,
                "household_type": hh.household_type,
            }
            yield [ident[c.key] if not c.field else fmt(c, getattr(o, c.field)) for c in COLUMNS]

    return headers, rows(), len(objs)
