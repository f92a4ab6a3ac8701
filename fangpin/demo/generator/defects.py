"""Deliberate data-quality defects, planted at a known rate and listed in a manifest.

Each defect is planted so that it trips exactly one check (``fangpin.registry.checks``) and nothing
else: a wrong school stage keeps the pupil 无劳动力, a same-gender "spouse" gets a name and (later) an
ID number of that gender, a duplicated person replaces another member so the household's size and
income per head do not move, and so on. A person or household carries at most one defect. The
manifest rows are ``{"code", "household_no", "person_no", "detail"}``; the test compares them with
the findings of the checks, rule by rule and row by row.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from fangpin.core.clock import add_months
from fangpin.registry.checks import codes as C

from . import names
from .families import is_student
from .income import lower_to, net_of
from .params import GenParams

FULL = ("技能劳动力", "普通劳动力")
Row = dict[str, Any]


def _bad_phone(rng: random.Random, good: str) -> str:
    kind = rng.randint(0, 2)
    if kind == 0:
        return good[:10]  # one digit short
    if kind == 1:
        return "12" + good[2:]  # no such mobile prefix
    return good + rng.choice("0123456789")  # one digit too many


class _Planter:
    def __init__(self, rng: random.Random, data, p: GenParams, rate: float, min_each: int) -> None:
        self.rng, self.data, self.p, self.rate, self.min_each = rng, data, p, rate, min_each
        self.used_people: set[str] = set()
        self.used_households: set[str] = set()
        self.on = p.as_of
        self.current = [x for x in data.persons if x["is_member"]]

    # the indexes below are built on first use (the ID defects need none of them)
    @functools.cached_property
    def by_hh(self) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for x in self.current:
            out.setdefault(x["household_no"], []).append(x)
        return out

    @functools.cached_property
    def monitored(self) -> dict[str, Row]:
        return {m["household_no"]: m for m in self.data.monitoring}

    @functools.cached_property
    def last_year(self) -> dict[str, Row]:
        return {r["household_no"]: r for r in self.data.incomes if r["period_start"].year == self.on.year - 1}

    @functools.cached_property
    def everyone(self) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for x in self.data.persons:
            out.setdefault(x["household_no"], []).append(x)
        return out

    def members_on(self, hh_no: str, on: dt.date) -> int:
        """The household's members on ``on`` by their entry and exit dates — as the registry's
        ``members_as_of`` counts them from the member changes (the income rules divide by these, not
        by today's members: a birth or death since then never rewrites that year's 人均)."""
        base = self.p.baseline
        return sum(
            1
            for x in self.everyone.get(hh_no, [])
            if (x["_entered_on"] or base) <= on and (x["_left_on"] is None or x["_left_on"] > on)
        )

    # a person's age at as_of, as the generator recorded it (``_age_now`` = ``age_on(birth_date, as_of)``:
    # a defect moves a birth date only of a person it then marks used, never a candidate again)
    age = staticmethod(itemgetter("_age_now"))

    def pick(self, candidates: list[Row]) -> list[Row]:
        chosen = [c for c in candidates if self.rng.random() < self.rate]
        if len(chosen) < self.min_each and candidates:
            chosen = self.rng.sample(candidates, min(self.min_each, len(candidates)))
        return chosen

    def record(self, code: str, x: Row | None, hh_no: str, detail: str) -> None:
        self.data.defects.append(
            {"code": code, "household_no": hh_no, "person_no": x["person_no"] if x else "", "detail": detail}
        )

    def persons(self, code: str, cond: Callable[[Row], bool], apply: Callable[[Row], str | None]) -> None:
        # cond first: a pure test (reads only), cheaper to fail than the set lookup
        cands = [x for x in self.current if cond(x) and x["person_no"] not in self.used_people]
        for x in self.pick(cands):
            detail = apply(x)
            if detail is not None:
                self.used_people.add(x["person_no"])
                self.record(code, x, x["household_no"], detail)

    def households(self, code: str, cond: Callable[[Row], bool], apply: Callable[[Row], str | None]) -> None:
        cands = [h for h in self.data.households if cond(h) and h["household_no"] not in self.used_households]
        for h in self.pick(cands):
            detail = apply(h)
            if detail is not None:
                self.used_households.add(h["household_no"])
                self.record(code, None, h["household_no"], detail)


def plant_pre_id(rng: random.Random, data, p: GenParams, *, rate: float, min_each: int = 0) -> None:
    t = _Planter(rng, data, p, rate, min_each)
    on = p.as_of

    def wrong_stage(x: Row) -> str:
        a = t.age(x)
        x["school_status"] = "普通高中二年级" if a <= 12 else "本科" if a <= 14 else "小学三年级"
        return f"{a}岁，在校生状况={x['school_status']}"

    t.persons(C.AGE_SCHOOL, lambda x: is_student(x["school_status"]) and 6 <= t.age(x) <= 17, wrong_stage)

    def set_labour(value: str) -> Callable[[Row], str]:
        def f(x: Row) -> str:
            x["labour_skill"] = value
            return f"{t.age(x)}岁，劳动技能={value}"

        return f

    t.persons(C.LABOUR_CHILD, lambda x: 10 <= t.age(x) <= 15, set_labour("普通劳动力"))
    t.persons(
        C.LABOUR_STUDENT,
        lambda x: is_student(x["school_status"]) and t.age(x) >= 16,
        set_labour("普通劳动力"),
    )
    t.persons(
        C.LABOUR_HEALTHY,
        lambda x: (
            x["health"] == "健康"
            and 16 <= t.age(x) <= 60
            and not is_student(x["school_status"])
            and x["labour_skill"] in FULL
        ),
        set_labour("弱劳动力或半劳动力"),
    )

    def insurance(x: Row) -> str:
        both = t.rng.random() < 0.5
        x["medical_resident"] = x["medical_employee"] = both
        return "同时参加城乡居民和城镇职工医保" if both else "未参加基本医疗保险"

    t.persons(C.MED_INSURANCE, lambda x: True, insurance)

    heads = {x["household_no"]: x for x in t.current if x["relation"] == "户主"}

    def same_gender_spouse(x: Row) -> str:
        g = heads[x["household_no"]]["gender"]
        x["gender"] = g
        x["name"] = names.full_name(t.rng, g, x["birth_date"].year)
        return f"户主与配偶性别均为{'男' if g == 'M' else '女'}"

    t.persons(
        C.SPOUSE_GENDER, lambda x: x["relation"] == "配偶" and x["household_no"] in heads, same_gender_spouse
    )

    def person_phone(x: Row) -> str:
        x["phone"] = _bad_phone(t.rng, x["phone"])
        return f"联系电话={x['phone']}"

    t.persons(C.PHONE_PERSON, lambda x: bool(x["phone"]), person_phone)

    def pwj(x: Row) -> str:
        x["public_welfare_job"], x["public_welfare_job_months"] = True, 10
        return f"{t.age(x)}岁，公益性岗位=是"

    t.persons(
        C.PWJ_AGE,
        lambda x: (14 <= t.age(x) <= 15 or 71 <= t.age(x) <= 80) and not x["public_welfare_job"],
        pwj,
    )

    def no_subsidy(x: Row) -> str:
        x["disability_subsidy"] = False
        return f"残疾等级{x['disability_grade']}级，未享受残疾人补贴"

    t.persons(
        C.DISABILITY_SUBSIDY,
        lambda x: (x["disability_grade"] or 9) <= 2 and x["disability_subsidy"],
        no_subsidy,
    )

    def both_dibao_tekun(x: Row) -> str:
        x["tekun"] = "农村特困"
        return "同时享受低保和特困供养"

    t.persons(C.DIBAO_TEKUN, lambda x: x["dibao"] != "未享受" and x["tekun"] == "不享受", both_dibao_tekun)

    def no_education(x: Row) -> str:
        x["education"] = ""
        return "文化程度为空"

    t.persons(
        C.MISSING_PERSON,
        lambda x: 20 <= t.age(x) <= 60 and not is_student(x["school_status"]) and x["education"],
        no_education,
    )

    def hh_phone(h: Row) -> str:
        h["phone"] = _bad_phone(t.rng, h["phone"])
        return f"户联系电话={h['phone']}"

    t.households(C.PHONE_HH, lambda h: bool(h["phone"]), hh_phone)

    def hh_missing(h: Row) -> str:
        h["phone"] = ""
        return "户联系电话为空"

    t.households(C.MISSING_HH, lambda h: True, hh_missing)

    def dibao_income(h: Row) -> str:
        rec = t.last_year[h["household_no"]]
        rec["transfer_other"] += rec["transfer_dibao"]
        rec["transfer_dibao"] = Decimal(0)
        return f"{on.year - 1}年低保金为0"

    t.households(
        C.DIBAO_INCOME,
        lambda h: (
            any(x["dibao"] != "未享受" for x in t.by_hh.get(h["household_no"], []))
            and h["household_no"] in t.last_year
        ),
        dibao_income,
    )

    def under_line(h: Row) -> str | None:
        rec = t.last_year[h["household_no"]]
        n = t.members_on(h["household_no"], dt.date(on.year - 1, 12, 31))
        line = p.line(on.year - 1)
        if n == 0:
            return None
        target = Decimal(int(line * Decimal(t.rng.uniform(0.55, 0.9)) * n))
        before = dict(rec)
        if not lower_to(rec, target):
            rec.update(before)
            return None
        return f"{on.year - 1}年人均纯收入{int(net_of(rec) / n)}元，低于监测范围{line}元"

    t.households(
        C.EXITED_UNDER_LINE,
        lambda h: (
            h["household_type"] == "脱贫户"
            and h["household_no"] not in t.monitored
            and h["household_no"] in t.last_year
        ),
        under_line,
    )
    # A 脱贫户 drawn above the line for today's members can be under it for the members of last
    # 31 December (a member died or married out since): the history leaves it exited and under the
    # line, a real finding of the rule — recorded as expected, not left to show as an extra.
    planted_under = {d["household_no"] for d in data.defects if d["code"] == C.EXITED_UNDER_LINE}
    line = p.line(on.year - 1)
    for h in data.households:
        no = h["household_no"]
        if (
            h["household_type"] != "脱贫户"
            or no in t.monitored
            or no in planted_under
            or no not in t.last_year
        ):
            continue
        n = t.members_on(no, dt.date(on.year - 1, 12, 31))
        net = net_of(t.last_year[no])
        if n and net < line * n:
            t.used_households.add(no)
            t.record(
                C.EXITED_UNDER_LINE,
                None,
                no,
                f"{on.year - 1}年人均纯收入{int(net / n)}元（年末{n}人，此后成员减少），低于监测范围{line}元",
            )

    def implausible(h: Row) -> str:
        m = t.monitored[h["household_no"]]
        # the rule's 人均 at identification divides by the members at the end of that month
        n = max(
            1,
            t.members_on(
                h["household_no"], add_months(m["identified_on"].replace(day=1), 1) - dt.timedelta(days=1)
            ),
        )
        want = p.implausible_per_capita * Decimal("1.3") * n
        for rec in data.incomes:
            if rec["household_no"] == h["household_no"] and rec["period_start"].year in (
                m["identified_on"].year - 1,
                m["identified_on"].year,
            ):
                months = rec["period_end"].month - rec["period_start"].month + 1  # the current year: part
                gap = (want * months / 12).quantize(Decimal(1)) - net_of(rec)
                if gap > 0:
                    rec["wage"] += gap
        return f"{m['identified_on']:%Y%m}识别，人均纯收入超过{p.implausible_per_capita}元"

    t.households(
        C.INCOME_IMPLAUSIBLE,
        lambda h: (
            h["household_no"] in t.monitored
            and p.implausible_from is not None
            and t.monitored[h["household_no"]]["identified_on"].year >= p.implausible_from
        ),
        implausible,
    )
    data._planter_used = (t.used_people, t.used_households)


def plant_post_id(rng: random.Random, data, p: GenParams, *, rate: float, min_each: int = 0) -> None:
    """Defects that need the ID numbers: an ID whose birth date disagrees with the recorded one, and
    the same person registered in two households (the second time with the 15-digit legacy number)."""
    t = _Planter(rng, data, p, rate, min_each)
    t.used_people, t.used_households = getattr(data, "_planter_used", (set(), set()))

    def shift_birth(x: Row) -> str:
        days = t.rng.choice([-1, 1]) * t.rng.randint(3, 40)
        x["birth_date"] = x["birth_date"] + dt.timedelta(days=days)
        return f"出生日期{x['birth_date']:%Y%m%d}与证件号码{x['id_number'][6:14]}不一致"

    t.persons(C.ID_MISMATCH, lambda x: 25 <= t.age(x) <= 55, shift_birth)

    dibao_households = {x["household_no"] for x in t.current if x["dibao"] != "未享受"}
    baseline = p.baseline
    originals = [
        x
        for x in t.current
        if x["person_no"] not in t.used_people
        and 20 <= t.age(x) <= 60
        and x["health"] == "健康"
        and x["dibao"] == "未享受"
        and x["tekun"] == "不享受"
        and not x["public_welfare_job"]
        and x["id_number"][6:8] == "19"
    ]
    for a in t.pick(originals):
        hosts = [
            y
            for y in t.current
            if y["household_no"] != a["household_no"]
            and y["person_no"] not in t.used_people
            and y["relation"] not in ("户主", "配偶")
            and t.age(y) >= 18
            and y["birth_date"] < baseline
            and y["household_no"] not in dibao_households
        ]
        if not hosts or a["person_no"] in t.used_people:
            continue
        b = t.rng.choice(hosts)
        keep = {k: b[k] for k in ("household_no", "person_no", "is_member")}
        b.update({k: v for k, v in a.items() if not k.startswith("_")})
        b.update(keep)
        b["relation"] = "之兄弟姐妹"
        b["id_number"] = a["id_number"][:6] + a["id_number"][8:17]
        b["phone"] = ""
        b["disability_cert_no"] = ""
        t.used_people |= {a["person_no"], b["person_no"]}
        detail = f"同一人{a['name']}在两户登记（{b['household_no']}户为15位旧号码）"
        t.record(C.ID_DUPLICATE, a, a["household_no"], detail)
        t.record(C.ID_DUPLICATE, b, b["household_no"], detail)
