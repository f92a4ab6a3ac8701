"""The demo county's department files for one month (部门数据): what 医保, 人社, 残联, 民政 and 教育 would push.

The demo world, not the screening engine: the files describe events, they know nothing of the screening
rules or their thresholds (those are policy parameters the engine reads). They are built from the
registry persons of the county (``screening.registry_export`` — the same persons the engine compares with)
and from the outlook the demo generator gave some households (``generator.income`` notes):

- **planted events** (``DeptEvent``, the answer key, also written to ``manifest.json``):
  - 医保: a member of a household (never monitored) that had hospital bills last year (``NOTE_NEW_ILLNESS``)
    is in hospital again this month — an inpatient settlement whose 个人自付 is 30-80 % of last year's
    合规自付支出 (so most are above the county's threshold and some below: near misses);
  - 人社: the main earner of a household (never monitored) that lost its work income this year
    (``NOTE_NEW_RISK``) registers as unemployed (失业登记).
  In the month of the dataset's ``as_of`` every such household has its event; in other months (or on a
  registry without a demo dataset) one in ten.
- **background** that must not become leads by itself: outpatient settlements, ordinary inpatient stays
  (log-normal 个人自付, so an occasional big bill is the world's, not a plant), people outside the registry
  (other county IDs) with big bills, 就业登记, and rosters that restate registry facts unchanged (残疾人证 with
  the 20-character certificate number, 低保/特困 在保, 义务教育 在读) — they exercise parsing and linkage, and
  the engine's fact comparison finds nothing to change.
- **identifier noise** on planted rows (from ``screening.testing.depts``): 15-digit IDs, missing IDs, mistyped
  IDs (failing the checksum), Excel-mangled 4.1E+17, full-width digits, homophone names without ID — so
  a planted event reaches its household only through linkage.

Deterministic for (county, month, seed). Files are CSV with a title line above the header, one per kind:
``<kind>_<YYYY-MM>.csv``; a department officer uploads them with ``fangpin dept_upload``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from fangpin.core import clock
from fangpin.core.ids import make_id_number
from fangpin.registry.models import IncomeRecord, Person

from .generator.income import NOTE_NEW_ILLNESS, NOTE_NEW_RISK
from .models import DemoDataset

# kind → the demo user (fangpin setup) of the department that uploads it
KIND_USERS = {
    "medical": "dept_officer",
    "hrss": "dept_renshe",
    "disability": "dept_canlian",
    "civil": "dept_minzheng",
    "education": "dept_jiaoyu",
}
# planted-event probability: in the dataset's as_of month / in any other month
STORY_SHARE = {"as_of": 1.0, "other": 0.1}
FOLLOW_UP_SHARE = (0.3, 0.8)  # this month's 个人自付 as a share of last year's 合规自付支出
VARIANTS = (("plain", 55), ("id15", 10), ("missing", 10), ("mistyped", 10), ("scientific", 5),
            ("fullwidth", 5), ("homophone", 5))  # fmt: skip
_ID18 = re.compile(r"^\d{17}[\dX]$")
_GRADE_WORDS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_CATEGORY_WORDS = {"1": "视力残疾", "2": "听力残疾", "3": "言语残疾", "4": "肢体残疾", "5": "智力残疾",
                   "6": "精神残疾", "7": "多重残疾"}  # fmt: skip


@dataclass
class DeptEvent:
    """A planted event: which department file, whose, with which identifier variant."""

    kind: str
    story: str  # "hospital_again" / "unemployed"
    person_id: int
    household_id: int
    variant: str
    amount: float | None = None
    date: str = ""


@dataclass
class DeptFiles:
    month: str
    files: dict[str, Path]
    events: list[DeptEvent] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def _story_households(county: str, *, year: int) -> tuple[dict[int, float], set[int]]:
    """({new-illness household: last year's 合规自付支出}, new-risk households) of the demo generator, by
    their income notes: hospital bills in ``year - 1``, lost work income in ``year``. Households that are
    or were monitoring objects are left out (their events belong to the monitoring story)."""
    from fangpin.monitoring.models import MonitoringObject

    ever = set(
        MonitoringObject.objects.filter(village__code__startswith=county).values_list(
            "household_id", flat=True
        )
    )
    recs = IncomeRecord.objects.filter(household__village__code__startswith=county)
    ill = {
        hid: float(oop)
        for hid, oop in recs.filter(period_start__year=year - 1, note=NOTE_NEW_ILLNESS).values_list(
            "household_id", "compliant_out_of_pocket"
        )
        if hid not in ever
    }
    risk = set(
        recs.filter(period_start__year=year, note=NOTE_NEW_RISK).values_list("household_id", flat=True)
    )
    return ill, risk - ever


def _persons(county: str, workdir: Path, *, on: dt.date) -> list[dict[str, Any]]:
    from fangpin.screening.registry_export import export_registry_persons

    path = workdir / "registry_persons.parquet"
    export_registry_persons(path, on=on, region_prefix=county)
    rows = pl.read_parquet(path).sort("person_id").to_dicts()
    extra = dict(Person.objects.filter(id__in=[r["person_id"] for r in rows]).values_list("id", "health"))
    school = dict(
        Person.objects.filter(id__in=[r["person_id"] for r in rows]).values_list("id", "school_status")
    )
    for r in rows:
        r["health"], r["school_status"] = extra.get(r["person_id"], ""), school.get(r["person_id"], "")
    return rows


def _cells(r: dict[str, Any], variant: str, rnd: random.Random, *, kind: str) -> dict[str, str]:
    from fangpin.screening.testing.depts import downgrade_to_id15, homophone_name, mistype_id

    idn, name = r["id_number"] or "", r["name"]
    cells = {"姓名": name, "所在村": r["village_name"], "性别": "男" if r["sex"] == "M" else "女",
             "出生日期": r["birth_date"].isoformat() if r["birth_date"] else ""}  # fmt: skip
    if variant == "id15" and _ID18.match(idn) and downgrade_to_id15(idn):
        cells["证件号码"] = downgrade_to_id15(idn)
    elif variant == "missing":
        cells["证件号码"] = ""
    elif variant == "mistyped" and _ID18.match(idn) and idn[:17].isdigit():
        cells["证件号码"] = mistype_id(idn, rnd, must_fail_checksum=True)
    elif variant == "scientific" and idn[:17].isdigit():
        cells["证件号码"] = f"{float(idn[:17]):.5E}"
    elif variant == "fullwidth":
        cells["证件号码"] = idn.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    elif variant == "homophone":
        cells["证件号码"], cells["姓名"] = "", homophone_name(name)
    else:
        cells["证件号码"] = idn
    return cells


def _write(path: Path, kind: str, month: str, recs: list[dict[str, str]]) -> None:
    headers = list(dict.fromkeys(k for rec in recs for k in rec))
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(f"{kind} 部门推送数据 {month}\n")  # a title line above the header, as departments do
        w = csv.DictWriter(fh, fieldnames=headers)
        w.writeheader()
        w.writerows(recs)


def _outside_area(county: str) -> tuple[str, str]:
    """(code, name) of the county's neighbour whose residents appear in its files but not in its registry:
    the first other county of the same city (龙安区 410506 → 文峰区 410502), else of the same province."""
    from fangpin.regions.models import Level, Region

    others = Region.objects.filter(level=Level.COUNTY).exclude(prefix=county).order_by("code")
    other = (
        others.filter(prefix__startswith=county[:4]).first()
        or others.filter(prefix__startswith=county[:2]).first()
    )
    return (other.prefix, other.name) if other else (county, "外县")


def _county_name(county: str) -> str:
    from fangpin.regions.models import Region

    return Region.objects.filter(prefix=county).values_list("name", flat=True).first() or county


def demo_department_files(
    *, county: str, month: str, out: Path, seed: int = 0, until: dt.date | None = None
) -> DeptFiles:
    """Writes the county's department files of ``month`` (YYYY-MM) into ``out``; events are dated from the
    1st to ``until`` (default: the month's last day). Returns the files and the planted events."""
    y, m = (int(x) for x in month.split("-"))
    first = dt.date(y, m, 1)
    last = clock.add_months(first, 1) - dt.timedelta(days=1)
    until = min(until or last, last)
    days = [first + dt.timedelta(days=i) for i in range((until - first).days + 1)] or [first]
    rnd = random.Random(f"demo-departments:{seed}:{county}:{month}")
    outside_code, outside_name = _outside_area(county)
    hospital = f"{_county_name(county)}人民医院"
    ds = DemoDataset.objects.filter(county_code=county).first()
    story = "as_of" if ds is not None and f"{ds.as_of:%Y-%m}" == month else "other"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = _persons(county, Path(tmp), on=until)
    ill, risk = _story_households(county, year=y)
    by_household: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_household.setdefault(r["household_id"], []).append(r)
    res = DeptFiles(month=month, files={})
    data: dict[str, list[dict[str, str]]] = {k: [] for k in KIND_USERS}
    day = lambda: rnd.choice(days).isoformat()  # noqa: E731
    variant = lambda: rnd.choices([v for v, _ in VARIANTS], weights=[w for _, w in VARIANTS])[0]  # noqa: E731
    adult = lambda r: r["birth_date"] is not None and r["birth_date"].year <= y - 18  # noqa: E731

    def stay(amount: float, on: str) -> dict[str, str]:
        return {"结算日期": on, "就诊类型": "住院", "入院日期": on, "个人自付": f"{amount:.2f}",
                "医疗总费用": f"{amount * rnd.uniform(2.5, 4.0):.2f}", "医疗机构": hospital}  # fmt: skip

    # --- planted: hospital again (医保), unemployment of the main earner (人社)
    for hid in sorted(ill):
        members = by_household.get(hid) or []
        if not members or rnd.random() >= STORY_SHARE[story]:
            continue
        sick = (
            [r for r in members if r["health"] in ("患有大病", "长期慢性病")]
            or [r for r in members if adult(r)]
            or members
        )
        r, v, amount, on = (
            rnd.choice(sick),
            variant(),
            round(ill[hid] * rnd.uniform(*FOLLOW_UP_SHARE), 2),
            day(),
        )
        data["medical"].append(_cells(r, v, rnd, kind="medical") | stay(amount, on))
        res.events.append(DeptEvent("medical", "hospital_again", r["person_id"], hid, v, amount, on))
    for hid in sorted(risk):
        earners = [r for r in by_household.get(hid) or [] if r["is_main_earner"]]
        if not earners or rnd.random() >= STORY_SHARE[story]:
            continue
        r, v, on = earners[0], variant(), day()
        data["hrss"].append(
            _cells(r, v, rnd, kind="hrss")
            | {"登记类型": "失业登记", "登记日期": on, "原工作单位": "外出务工"}
        )
        res.events.append(DeptEvent("hrss", "unemployed", r["person_id"], hid, v, None, on))

    # --- background (plain IDs, a few missing): the world's ordinary month
    def sample(pred: Callable[[dict[str, Any]], bool], share: float) -> list[dict[str, Any]]:
        cands = [r for r in rows if pred(r)]
        return rnd.sample(cands, min(len(cands), round(share * len(cands))))

    def bg(r: dict[str, Any], kind: str) -> dict[str, str]:
        return _cells(r, "missing" if rnd.random() < 0.01 else "plain", rnd, kind=kind)

    for r in sample(lambda r: True, 0.025):
        data["medical"].append(bg(r, "medical") | {"结算日期": day(), "就诊类型": "门诊",
                                                   "个人自付": f"{rnd.uniform(30, 450):.2f}"})  # fmt: skip
    for r in sample(lambda r: True, 0.0035):
        data["medical"].append(
            bg(r, "medical") | stay(max(200.0, rnd.lognormvariate(math.log(1800), 0.6)), day())
        )
    for i in range(12):  # residents outside the registry, big bills (valid IDs unknown to the registry)
        birth = dt.date(1950 + rnd.randrange(50), rnd.randrange(1, 13), rnd.randrange(1, 28))
        sex = rnd.choice("MF")
        o = {"id_number": make_id_number(outside_code, birth, 300 + i, sex), "name": f"城{'甲乙丙丁戊己庚辛壬癸子丑'[i]}某",
             "village_name": f"{outside_name}某社区", "sex": sex, "birth_date": birth}  # fmt: skip
        data["medical"].append(
            _cells(o, "plain", rnd, kind="medical") | stay(rnd.uniform(12000, 40000), day())
        )
    for r in sample(lambda r: r["is_labourer"] and not r["is_main_earner"], 0.01):
        data["hrss"].append(
            bg(r, "hrss") | {"登记类型": rnd.choice(["就业登记", "失业登记"]), "登记日期": day()}
        )
    for r in sample(lambda r: r["is_labourer"] and r["is_main_earner"], 0.005):
        data["hrss"].append(bg(r, "hrss") | {"登记类型": "就业登记", "登记日期": day()})
    # rosters restating registry facts unchanged (plain IDs only: a wrong link must not move a fact)
    for r in sample(lambda r: r["disability_grade"] is not None and bool(r["disability_category"])
                    and _ID18.match(r["id_number"] or "") is not None, 0.15):  # fmt: skip
        g, c = int(r["disability_grade"]), str(r["disability_category"])
        cells = _cells(r, "plain", rnd, kind="disability")
        cells["证件号码"] = f"{r['id_number']}{c}{g}"  # 残疾人证号 = ID + category + grade
        data["disability"].append(cells | {"残疾类别": _CATEGORY_WORDS.get(c, c), "残疾等级": _GRADE_WORDS.get(g, str(g)),
                                           "发证日期": day()})  # fmt: skip
    for r in sample(lambda r: r["dibao"] in ("农村低保", "城市低保"), 0.3):
        data["civil"].append(_cells(r, "plain", rnd, kind="civil") | {"保障类型": r["dibao"], "变动情况": "在保",
                                                                      "变动日期": day()})  # fmt: skip
    for r in sample(lambda r: r["tekun"] in ("农村特困", "城市特困"), 0.3):
        data["civil"].append(_cells(r, "plain", rnd, kind="civil") | {"保障类型": "农村特困", "变动情况": "在保",
                                                                      "变动日期": day()})  # fmt: skip
    compulsory = ("小学", "七年级", "八年级", "九年级")
    for r in sample(
        lambda r: (r["school_status"] or "").startswith(compulsory) and not r["out_of_school"], 0.2
    ):
        stage = "小学" if r["school_status"].startswith("小学") else "初中"
        data["education"].append(_cells(r, "plain", rnd, kind="education") | {"学段": stage, "学籍状态": "在读",
                                                                              "变动日期": day()})  # fmt: skip

    for kind, recs in data.items():
        if not recs:
            continue
        rnd.shuffle(recs)
        path = out / f"{kind}_{month}.csv"
        _write(path, kind, month, recs)
        res.files[kind], res.rows[kind] = path, len(recs)
    (out / "manifest.json").write_text(
        json.dumps({"month": month, "county": county, "seed": seed, "until": until.isoformat(),
                    "rows": res.rows, "events": [asdict(e) for e in res.events]},
                   ensure_ascii=False, indent=1),
        encoding="utf-8",
    )  # fmt: skip
    return res
