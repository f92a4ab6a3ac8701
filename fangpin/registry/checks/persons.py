"""Person-level rules (policy-research §4.2 "Example rules"): school stage vs age, labour vs age,
exactly one medical insurance, phone format, public-welfare job ages, 1/2-grade disability ⇒ 残疾人补贴,
低保 and 特困 at once, missing required fields. Each rule is one filtered query per county; ages are
turned into birth-date bounds so the database does the work. Only current members are checked."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.db.models import Q

from fangpin.core.ids import LANDLINE_RE, PHONE_RE
from fangpin.core.masking import mask_text

from . import codes as C
from .base import CheckContext, Finding, register
from .support import PERSON_FIELDS, STUDENT_EXCLUDED, age_on, born_by, param, per_county, who

FAMILY = "人员信息"
NO_LABOUR = "无劳动力"
WEAK = ("弱劳动力或半劳动力", "无劳动力")
MOBILE = PHONE_RE.pattern.replace(r"\d", "[0-9]")
LANDLINE = LANDLINE_RE.pattern.replace(r"\d", "[0-9]")
IS_STUDENT = ~Q(school_status__in=STUDENT_EXCLUDED)


def _rows(qs, *extra: str) -> Iterator[dict]:
    yield from qs.values(*PERSON_FIELDS, *extra).order_by("id").iterator(chunk_size=2000)


@register(C.AGE_SCHOOL, family=FAMILY, title="在校生状况与年龄不符")
def age_vs_school(ctx: CheckContext) -> Iterator[Finding]:
    for county, persons, _ in per_county(ctx):
        stages: dict[str, list[int]] = param("checks.school_stage_ages", county, ctx.on)
        wrong = Q()
        for stage, (lo, hi) in stages.items():
            outside = Q(birth_date__gt=born_by(ctx.on, lo)) | Q(birth_date__lte=born_by(ctx.on, hi + 1))
            wrong |= Q(school_status__startswith=stage) & outside
        for p in _rows(persons.filter(birth_date__isnull=False).filter(wrong), "school_status"):
            stage = next(s for s in stages if p["school_status"].startswith(s))
            lo, hi = stages[stage]
            yield Finding(
                C.AGE_SCHOOL,
                p["household_id"],
                f"{who(p)}{age_on(p['birth_date'], ctx.on)}岁，在校生状况为“{p['school_status']}”，"
                f"与年龄不符（该阶段应为{lo}-{hi}岁）",
                p["id"],
                "school_status",
            )


@register(C.LABOUR_CHILD, family=FAMILY, title="16岁以下劳动技能不是无劳动力")
def labour_child(ctx: CheckContext) -> Iterator[Finding]:
    for county, persons, _ in per_county(ctx):
        min_age = param("checks.labour_min_age", county, ctx.on)
        qs = persons.filter(birth_date__gt=born_by(ctx.on, min_age)).exclude(labour_skill=NO_LABOUR)
        for p in _rows(qs, "labour_skill"):
            yield Finding(
                C.LABOUR_CHILD,
                p["household_id"],
                f"{who(p)}{age_on(p['birth_date'], ctx.on)}岁，不满{min_age}周岁，"
                f"劳动技能应为“无劳动力”，现为“{p['labour_skill']}”",
                p["id"],
                "labour_skill",
            )


@register(C.LABOUR_STUDENT, family=FAMILY, title="在校生劳动技能不是无劳动力")
def labour_student(ctx: CheckContext) -> Iterator[Finding]:
    for county, persons, _ in per_county(ctx):
        min_age = param("checks.labour_min_age", county, ctx.on)
        # under the minimum age the child rule already flags it: one finding per fact
        qs = persons.filter(IS_STUDENT, birth_date__lte=born_by(ctx.on, min_age)).exclude(
            labour_skill=NO_LABOUR
        )
        for p in _rows(qs, "labour_skill", "school_status"):
            yield Finding(
                C.LABOUR_STUDENT,
                p["household_id"],
                f"{who(p)}为在校生（{p['school_status']}），劳动技能应为“无劳动力”，现为“{p['labour_skill']}”",
                p["id"],
                "labour_skill",
            )


@register(C.LABOUR_HEALTHY, family=FAMILY, title="健康劳动年龄人口劳动技能为弱或无")
def labour_healthy(ctx: CheckContext) -> Iterator[Finding]:
    for county, persons, _ in per_county(ctx):
        lo = param("checks.labour_min_age", county, ctx.on)
        hi = param("checks.healthy_labour_max_age", county, ctx.on)
        qs = persons.filter(
            health="健康",
            labour_skill__in=WEAK,
            school_status__in=STUDENT_EXCLUDED,
            birth_date__lte=born_by(ctx.on, lo),
            birth_date__gt=born_by(ctx.on, hi + 1),
        )
        for p in _rows(qs, "labour_skill"):
            yield Finding(
                C.LABOUR_HEALTHY,
                p["household_id"],
                f"{who(p)}{age_on(p['birth_date'], ctx.on)}岁，健康状况为健康，"
                f"劳动技能不应为“{p['labour_skill']}”（{lo}-{hi}岁健康人员）",
                p["id"],
                "labour_skill",
            )


@register(C.MED_INSURANCE, family=FAMILY, title="基本医疗保险参保不唯一")
def medical_insurance(ctx: CheckContext) -> Iterator[Finding]:
    both = Q(medical_resident=True, medical_employee=True)
    none = Q(medical_resident=False, medical_employee=False)
    for p in _rows(ctx.persons.filter(both | none), "medical_resident"):
        what = (
            "同时参加了城乡居民和城镇职工基本医疗保险" if p["medical_resident"] else "未参加任何基本医疗保险"
        )
        yield Finding(
            C.MED_INSURANCE,
            p["household_id"],
            f"{who(p)}{what}（两者应有且只有一项为“是”）",
            p["id"],
            "medical_resident",
        )


def bad_phone(value: str | None) -> bool:
    """A stated phone that is neither a mobile nor a landline number (tested in Python: phones are
    encrypted at rest, so no SQL regular expression can see them)."""
    return bool(value) and not (re.fullmatch(MOBILE, value) or re.fullmatch(LANDLINE, value))


@register(C.PHONE_PERSON, family=FAMILY, title="成员联系电话格式错误")
def person_phone(ctx: CheckContext) -> Iterator[Finding]:
    for p in _rows(ctx.persons.exclude(phone=""), "phone"):
        if not bad_phone(p["phone"]):
            continue
        yield Finding(
            C.PHONE_PERSON,
            p["household_id"],
            f"{who(p)}联系电话“{mask_text(p['phone'])}”格式错误（应为11位手机号1[3-9]开头，或带区号的固定电话）",
            p["id"],
            "phone",
        )


@register(C.PWJ_AGE, family=FAMILY, title="公益性岗位人员年龄不符")
def public_welfare_job_age(ctx: CheckContext) -> Iterator[Finding]:
    for county, persons, _ in per_county(ctx):
        lo, hi = param("checks.public_welfare_job_ages", county, ctx.on)
        qs = persons.filter(public_welfare_job=True).filter(
            Q(birth_date__gt=born_by(ctx.on, lo)) | Q(birth_date__lte=born_by(ctx.on, hi + 1))
        )
        for p in _rows(qs):
            yield Finding(
                C.PWJ_AGE,
                p["household_id"],
                f"{who(p)}{age_on(p['birth_date'], ctx.on)}岁，安排了公益性岗位（允许年龄{lo}-{hi}岁）",
                p["id"],
                "public_welfare_job",
            )


@register(C.DISABILITY_SUBSIDY, family=FAMILY, title="一二级残疾人未享受残疾人补贴")
def disability_subsidy(ctx: CheckContext) -> Iterator[Finding]:
    for county, persons, _ in per_county(ctx):
        grades = param("checks.disability_subsidy_grades", county, ctx.on)
        qs = persons.filter(disability_grade__in=grades, disability_subsidy=False)
        for p in _rows(qs, "disability_grade"):
            yield Finding(
                C.DISABILITY_SUBSIDY,
                p["household_id"],
                f"{who(p)}为{p['disability_grade']}级残疾，未享受残疾人两项补贴",
                p["id"],
                "disability_subsidy",
            )


@register(C.DIBAO_TEKUN, family=FAMILY, title="同时享受低保和特困供养")
def dibao_and_tekun(ctx: CheckContext) -> Iterator[Finding]:
    qs = ctx.persons.exclude(dibao="未享受").exclude(tekun="不享受")
    for p in _rows(qs, "dibao", "tekun"):
        yield Finding(
            C.DIBAO_TEKUN,
            p["household_id"],
            f"{who(p)}同时享受“{p['dibao']}”和“{p['tekun']}”（特困供养人员不再纳入低保）",
            p["id"],
            "tekun",
        )


_REQUIRED = {
    "name": "姓名",
    "id_number": "证件号码",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "relation": "与户主关系",
}


@register(C.MISSING_PERSON, family=FAMILY, title="成员必填项缺失")
def missing_person_fields(ctx: CheckContext) -> Iterator[Finding]:
    for county, persons, _ in per_county(ctx):
        adult = param("checks.labour_min_age", county, ctx.on)
        missing = Q(id_number__isnull=True) | Q(birth_date__isnull=True)
        for f in ("name", "id_number", "ethnicity", "relation"):
            missing |= Q(**{f: ""})
        no_education = Q(
            education="", school_status__in=STUDENT_EXCLUDED, birth_date__lte=born_by(ctx.on, adult)
        )
        for p in _rows(
            persons.filter(missing | no_education), "ethnicity", "relation", "education", "school_status"
        ):
            fields = [label for f, label in _REQUIRED.items() if not p.get(f)]
            a = age_on(p["birth_date"], ctx.on)
            if not p["education"] and p["school_status"] in STUDENT_EXCLUDED and a is not None and a >= adult:
                fields.append("文化程度")
            yield Finding(
                C.MISSING_PERSON,
                p["household_id"],
                f"{who(p)}缺少必填项：{'、'.join(fields)}",
                p["id"],
                "",
            )
