"""Generated department files with planted changes, built on registry persons, with the planted truth.

``registry_slice`` creates a small deterministic registry (households in three villages of 龙安区) when
no demo data is at hand; ``generate_department_files`` reads registry persons (the Parquet written by
``registry_export``) and writes one file per department and month, with:
- planted changes that each screening rule must find (``Planted``: rule code + registry person);
- near misses just under each threshold and records of people outside the registry (must NOT hit);
- identifier noise on planted rows: 15-digit IDs, 20-character 残疾人证 numbers, missing IDs, mistyped IDs
  (medical ones fail the checksum), an Excel-mangled 4.1E+17, full-width digits, homophone names.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fangpin.core.ids import check_digit, make_id_number

# Homophone substitutions (same pinyin, different character) for planted name variants.
HOMOPHONES = {"张": "章", "李": "理", "王": "汪", "伟": "玮", "芳": "方", "明": "鸣", "华": "桦", "丽": "莉",
              "军": "君", "平": "萍", "红": "宏", "强": "墙", "静": "靜", "杰": "洁", "刚": "钢", "英": "鹰"}  # fmt: skip


@dataclass
class Planted:
    rule: str
    person_id: int
    source: str
    id_variant: str = "plain"


@dataclass
class Generated:
    files: dict[tuple[str, str], Path]  # (kind, period) → file
    planted: list[Planted] = field(default_factory=list)
    near_misses: list[tuple[str, int]] = field(default_factory=list)

    @property
    def expected(self) -> set[tuple[str, int]]:
        return {(p.rule, p.person_id) for p in self.planted}


def registry_slice(*, households: int = 45, seed: int = 7) -> list[int]:
    """A small registry through the real models: mixed household types, labour, ages, one disabled."""
    from fangpin.registry.choices import HouseholdType, LabourSkill, Relation
    from fangpin.testing import factories as f

    rnd = random.Random(seed)
    surnames = list(
        "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施孔曹严金魏陶姜谢邹喻柏水窦云苏潘葛奚范彭郎鲁韦昌马苗凤花方"
    )
    given = list("建国志强秀英桂兰春梅海燕德福永庆玉珍新民金凤宝山淑珍卫东小龙晓燕家豪子涵雨轩浩然")
    villages = [f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1]
    made: list[int] = []
    used: set[str] = set()

    def name() -> str:
        while True:
            n = rnd.choice(surnames) + rnd.choice(given) + rnd.choice(given)
            if n not in used:
                used.add(n)
                return n

    for i in range(households):
        hh = f.household(
            villages[i % 3], household_type=HouseholdType.EXITED if i % 2 == 0 else HouseholdType.ORDINARY
        )
        head_birth = dt.date(1950 + rnd.randrange(40), rnd.randrange(1, 13), rnd.randrange(1, 28))
        head = f.person(hh, name=name(), gender="M", birth=head_birth, relation=Relation.HEAD, work_months=10)
        made.append(head.pk)
        spouse_skill = LabourSkill.NONE if i % 4 == 0 else LabourSkill.ORDINARY
        sp = f.person(hh, name=name(), gender="F", relation=Relation.SPOUSE, labour_skill=spouse_skill,
                      birth=head_birth + dt.timedelta(days=400), work_months=3)  # fmt: skip
        made.append(sp.pk)
        kid_birth = dt.date(2010 + rnd.randrange(8), rnd.randrange(1, 13), rnd.randrange(1, 28))
        kid = f.person(hh, name=name(), gender="M" if i % 3 else "F", relation=Relation.SON, birth=kid_birth,
                       labour_skill=LabourSkill.NONE)  # fmt: skip
        made.append(kid.pk)
    return made


def mistype_id(idn: str, rnd: random.Random, *, must_fail_checksum: bool) -> str:
    while True:
        k = rnd.randrange(6, 17)
        s = idn[:k] + str((int(idn[k]) + rnd.randrange(1, 10)) % 10) + idn[k + 1 :]
        if not must_fail_checksum or check_digit(s[:17]) != s[17]:
            return s


def homophone_name(name: str) -> str:
    for i, ch in enumerate(name):
        if ch in HOMOPHONES:
            return name[:i] + HOMOPHONES[ch] + name[i + 1 :]
    return name


def downgrade_to_id15(idn: str) -> str | None:
    return idn[:6] + idn[8:17] if idn[6:8] == "19" else None


def generate_department_files(
    persons_parquet: Path, outdir: Path, *, month: str = "2025-06", seed: int = 11
) -> Generated:
    """Writes CSV files (Chinese headers, some aliases) into ``outdir``; returns files and truth."""
    rnd = random.Random(seed)
    P = pl.read_parquet(persons_parquet).sort("person_id")
    rows = P.to_dicts()
    y, m = (int(x) for x in month.split("-"))
    day = lambda d: dt.date(y, m, d).isoformat()  # noqa: E731
    early = f"{y}-02"
    used: set[int] = set()
    out = Generated(files={})

    def pick(pred) -> dict:
        cands = [r for r in rows if r["person_id"] not in used and pred(r)]
        if not cands:
            raise RuntimeError("registry slice has no person for a planted change")
        r = rnd.choice(cands)
        used.add(r["person_id"])
        return r

    def person_cells(r: dict, variant: str, *, kind: str) -> dict:
        idn, name = r["id_number"], r["name"]
        cells = {"姓名": name, "所在村": r["village_name"], "性别": "男" if r["sex"] == "M" else "女",
                 "出生日期": r["birth_date"].isoformat()}  # fmt: skip
        if variant == "id15" and downgrade_to_id15(idn):
            cells["证件号码"] = downgrade_to_id15(idn)
        elif variant == "missing":
            cells["证件号码"] = ""
        elif variant == "mistyped":
            cells["证件号码"] = mistype_id(idn, rnd, must_fail_checksum=(kind == "medical"))
        elif variant == "scientific":
            cells["证件号码"] = f"{float(idn[:17]):.5E}"
        elif variant == "fullwidth":
            cells["证件号码"] = idn.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
        elif variant == "homophone":
            cells["证件号码"] = ""
            cells["姓名"] = homophone_name(name)
        else:
            cells["证件号码"] = idn
        return cells

    data: dict[tuple[str, str], list[dict]] = {}

    def add(kind: str, period: str, r: dict, variant: str, extra: dict, rule: str | None) -> None:
        row = person_cells(r, variant, kind=kind) | extra
        data.setdefault((kind, period), []).append(row)
        if rule:
            out.planted.append(Planted(rule, r["person_id"], kind, variant))
        else:
            out.near_misses.append((kind, r["person_id"]))

    exited = lambda r: r["is_exited"] and not r["is_monitored"]  # noqa: E731
    monitored = lambda r: r["is_monitored"]  # noqa: E731
    others = lambda r: not r["is_exited"] and not r["is_monitored"]  # noqa: E731
    born19 = lambda r: r["birth_date"].year < 2000  # noqa: E731
    stay = lambda amt, d: {  # noqa: E731
        "结算日期": d,
        "就诊类型": "住院",
        "个人自付": f"{amt:.2f}",
        "医疗总费用": f"{amt * 3:.2f}",
    }  # noqa: E731

    # --- 医保: year-to-date sum for 脱贫人口 (one stay in February, one this month), single stays
    r = pick(lambda r: exited(r) and born19(r))
    add("medical", early, r, "id15", stay(3200, f"{y}-02-10"), None)
    add("medical", month, r, "id15", stay(2100, day(5)), "MED_EXITED_YTD_OOP")
    r = pick(exited)
    add("medical", month, r, "missing", stay(5600, day(8)), "MED_EXITED_YTD_OOP")
    r = pick(exited)
    add("medical", month, r, "plain", stay(4000, day(9)), None)  # near miss: 4000 < 5000
    r = pick(monitored)
    add("medical", month, r, "mistyped", stay(6800, day(12)), "MED_STAY_MONITORED")
    r = pick(monitored)
    add("medical", month, r, "plain", stay(5900, day(12)), None)  # near miss
    r = pick(others)
    add("medical", month, r, "homophone", stay(12500, day(15)), "MED_STAY_OTHER")
    r = pick(others)
    add("medical", month, r, "scientific", stay(15000, day(16)), "MED_STAY_OTHER")
    r = pick(others)
    add("medical", month, r, "plain", stay(9800, day(16)), None)  # near miss
    # background: small outpatient visits of registry persons and big bills of people outside the registry
    for r2 in rnd.sample(rows, min(40, len(rows))):
        add(
            "medical", month, r2, "plain", {"结算日期": day(3), "就诊类型": "门诊", "个人自付": "86.50"}, None
        )
    for i in range(15):
        birth = dt.date(1960 + i, 3, 3)
        outsider = {"person_id": -1, "id_number": make_id_number("410506", birth, 400 + i, "M"),
                    "name": f"外{'甲乙丙丁戊己庚辛壬癸子丑寅卯辰'[i]}某", "village_name": "外县某村", "sex": "M",
                    "birth_date": birth}  # fmt: skip
        add("medical", month, outsider, "missing" if i % 3 == 0 else "plain", stay(30000, day(20)), None)

    # --- 残联: new grade 2 via a 20-character 残疾人证 number; grade 3 is no hit
    r = pick(lambda r: r["disability_grade"] is None)
    cert = r["id_number"] + "42"
    data.setdefault(("disability", month), []).append(
        person_cells(r, "plain", kind="disability")
        | {"证件号码": cert, "残疾类别": "肢体残疾", "残疾等级": "二级", "发证日期": day(6)}
    )
    out.planted.append(Planted("DIS_NEW_SEVERE", r["person_id"], "disability", "disability_cert"))
    r = pick(lambda r: r["disability_grade"] is None)
    add("disability", month, r, "plain", {"残疾类别": "4", "残疾等级": "3", "发证日期": day(6)}, None)

    # --- 公安: death of the only labourer; death of a non-labourer is no hit
    r = pick(lambda r: r["is_labourer"] and r["household_labourers"] == 1)
    add(
        "police",
        month,
        r,
        "fullwidth",
        {"变动类型": "死亡注销", "变动日期": day(11)},
        "POL_DEATH_ONLY_LABOURER",
    )
    r = pick(lambda r: not r["is_labourer"] and r["birth_date"].year < 2000)
    add("police", month, r, "plain", {"变动类型": "死亡", "变动日期": day(11)}, None)

    # --- 教育: dropout of a child of 6-15; a 17-year-old's dropout is no hit
    age = lambda r: y - r["birth_date"].year  # noqa: E731
    r = pick(lambda r: 7 <= age(r) <= 14)
    add(
        "education",
        month,
        r,
        "mistyped",
        {"学段": "初中", "学籍状态": "辍学", "变动日期": day(2)},
        "EDU_DROPOUT",
    )
    r = pick(lambda r: 7 <= age(r) <= 14)
    add("education", month, r, "plain", {"学段": "小学", "学籍状态": "在读", "变动日期": day(2)}, None)

    # --- 住建, 应急, 资产, 民政, 人社, 水利
    r = pick(lambda r: True)
    add("housing", month, r, "plain", {"鉴定等级": "D级", "鉴定日期": day(7)}, "HOUSE_UNSAFE")
    r = pick(lambda r: True)
    add("housing", month, r, "plain", {"鉴定等级": "B", "鉴定日期": day(7)}, None)
    r = pick(lambda r: True)
    add(
        "emergency",
        month,
        r,
        "plain",
        {"灾害类型": "洪涝", "受灾日期": day(4), "直接经济损失": "8000"},
        "DISASTER_LOSS",
    )
    r = pick(lambda r: True)
    add("emergency", month, r, "plain", {"灾害类型": "洪涝", "受灾日期": day(4), "直接经济损失": "600"}, None)
    r = pick(monitored)
    add(
        "assets",
        month,
        r,
        "plain",
        {"资产类型": "机动车", "登记日期": day(19), "登记信息": "豫E12345"},
        "ASSET_MONITORED",
    )
    r = pick(others)
    add("assets", month, r, "plain", {"资产类型": "车辆", "登记日期": day(19), "登记信息": "豫E54321"}, None)
    r = pick(lambda r: True)
    add(
        "civil",
        month,
        r,
        "homophone",
        {"保障类型": "农村低保", "变动情况": "取消", "变动日期": day(1)},
        "DIBAO_CANCELLED",
    )
    r = pick(lambda r: True)
    add("civil", month, r, "plain", {"保障类型": "低保", "变动情况": "在保", "变动日期": day(1)}, None)
    r = pick(lambda r: r["is_main_earner"])
    add("hrss", month, r, "plain", {"登记类型": "失业", "登记日期": day(21)}, "HRSS_EARNER_UNEMPLOYED")
    r = pick(lambda r: r["is_labourer"] and not r["is_main_earner"])
    add("hrss", month, r, "plain", {"登记类型": "失业登记", "登记日期": day(21)}, None)
    r = pick(lambda r: True)
    add("water", month, r, "plain", {"断水开始日期": day(10), "断水天数": "12"}, "WATER_INTERRUPTED")
    r = pick(lambda r: True)
    add("water", month, r, "plain", {"断水开始日期": day(10), "断水天数": "3"}, None)

    outdir.mkdir(parents=True, exist_ok=True)
    for (kind, period), recs in data.items():
        headers = list(dict.fromkeys(k for rec in recs for k in rec))
        path = outdir / f"{kind}_{period}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            fh.write(f"{kind} 部门推送数据 {period}\n")  # a title line above the header
            w = csv.DictWriter(fh, fieldnames=headers)
            w.writeheader()
            for rec in recs:
                w.writerow(rec)
        out.files[(kind, period)] = path
    return out
