"""Value lists of the national export (全国防返贫监测信息系统). Values are the exact Chinese strings the
export carries, so import and export round-trip; member names are the English identifiers."""

from __future__ import annotations

from django.db import models


class HouseholdType(models.TextChoices):
    EXITED = "脱贫户", "脱贫户"
    ORDINARY = "一般农户", "一般农户"


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", "正常"
    CANCELLED = "cancelled", "已注销"


class IdType(models.TextChoices):
    RESIDENT_ID = "身份证", "身份证"
    DISABILITY_CERT = "残疾人证", "残疾人证"
    OTHER = "其他", "其他"


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


GENDER_FROM_TEXT = {
    "男": "M",
    "女": "F",
    "男性": "M",
    "女性": "F",
    "M": "M",
    "F": "F",
    "m": "M",
    "f": "F",
    "1": "M",
    "2": "F",
}


class Relation(models.TextChoices):
    HEAD = "户主"
    SPOUSE = "配偶"
    SON = "之子"
    DAUGHTER = "之女"
    DAUGHTER_IN_LAW = "之儿媳"
    SON_IN_LAW = "之女婿"
    GRANDSON = "之孙子"
    GRANDDAUGHTER = "之孙女"
    DAUGHTERS_SON = "之外孙子"
    DAUGHTERS_DAUGHTER = "之外孙女"
    GREAT_GRANDSON = "之曾孙子"
    GREAT_GRANDDAUGHTER = "之曾孙女"
    FATHER = "之父"
    MOTHER = "之母"
    FATHER_IN_LAW_H = "之公公"
    MOTHER_IN_LAW_H = "之婆婆"
    FATHER_IN_LAW_W = "之岳父"
    MOTHER_IN_LAW_W = "之岳母"
    GRANDFATHER = "之祖父"
    GRANDMOTHER = "之祖母"
    SIBLING = "之兄弟姐妹"
    SIBLING_IN_LAW = "之兄弟媳妇"
    NEPHEW = "之侄儿"
    NIECE = "之侄女"
    UNCLE = "之叔伯"
    OTHER = "其他"


class Education(models.TextChoices):
    ILLITERATE = "文盲或半文盲"
    PRIMARY = "小学"
    JUNIOR = "初中"
    SENIOR = "高中"
    VOCATIONAL = "中专"
    COLLEGE = "大专"
    BACHELOR_PLUS = "本科及以上"


class SchoolStatus(models.TextChoices):
    PRESCHOOL_CHILD = "学龄前儿童"
    PRESCHOOL_EDU = "学前教育"
    # The national export writes primary pupils as 小学 (no grade); a stage without a grade is a value of its
    # own wherever a file gives only the stage (初中, 普通高中, 中职, 高职高专), graded values stay graded.
    PRIMARY = "小学"
    PRIMARY_1 = "小学一年级"
    PRIMARY_2 = "小学二年级"
    PRIMARY_3 = "小学三年级"
    PRIMARY_4 = "小学四年级"
    PRIMARY_5 = "小学五年级"
    PRIMARY_6 = "小学六年级"
    JUNIOR = "初中"
    GRADE_7 = "七年级"
    GRADE_8 = "八年级"
    GRADE_9 = "九年级"
    HIGH = "普通高中"
    HIGH_1 = "普通高中一年级"
    HIGH_2 = "普通高中二年级"
    HIGH_3 = "普通高中三年级"
    VOC = "中职"
    VOC_1 = "中职一年级"
    VOC_2 = "中职二年级"
    VOC_3 = "中职三年级"
    HVOC = "高职高专"
    HVOC_1 = "高职高专一年级"
    HVOC_2 = "高职高专二年级"
    HVOC_3 = "高职高专三年级"
    TECHNICIAN = "技师"
    UNDERGRADUATE = "本科"
    POSTGRADUATE = "硕士生及以上"


# Plausible age ranges per school stage (policy-research §4.2 example rules), used by the checks.
SCHOOL_STAGE_AGES: dict[str, tuple[int, int]] = {
    "学龄前儿童": (0, 6),
    "学前教育": (2, 7),
    "小学": (5, 14),
    "初中": (11, 17),
    "七年级": (11, 17),
    "八年级": (11, 17),
    "九年级": (11, 17),
    "普通高中": (14, 20),
    "中职": (14, 20),
    "高职高专": (17, 30),
    "技师": (16, 30),
    "本科": (17, 35),
    "硕士生及以上": (20, 60),
}


def school_stage(status: str) -> str:
    for stage in SCHOOL_STAGE_AGES:
        if status.startswith(stage):
            return stage
    return ""


class Health(models.TextChoices):
    HEALTHY = "健康"
    CHRONIC = "长期慢性病"
    SERIOUS = "患有大病"
    DISABLED = "残疾"


class DisabilityCategory(models.TextChoices):
    VISUAL = "1", "视力残疾"
    HEARING = "2", "听力残疾"
    SPEECH = "3", "言语残疾"
    PHYSICAL = "4", "肢体残疾"
    INTELLECTUAL = "5", "智力残疾"
    MENTAL = "6", "精神残疾"
    MULTIPLE = "7", "多重残疾"


class LabourSkill(models.TextChoices):
    SKILLED = "技能劳动力"
    ORDINARY = "普通劳动力"
    WEAK = "弱劳动力或半劳动力"
    LOST = "丧失劳动力"
    NONE = "无劳动力"


LABOUR_ABLE = {LabourSkill.SKILLED, LabourSkill.ORDINARY, LabourSkill.WEAK}


class WorkStatus(models.TextChoices):
    NOT_WORKING = "未务工"
    IN_COUNTY = "县内务工"
    OUT_COUNTY_IN_PROVINCE = "省内县外务工"
    OUT_PROVINCE = "省外务工"
    LOCAL_CASUAL = "本地零散务工"


class Dibao(models.TextChoices):
    RURAL = "农村低保"
    URBAN = "城市低保"
    NONE = "未享受"


class Tekun(models.TextChoices):
    RURAL = "农村特困"
    URBAN = "城市特困"
    NONE = "不享受"


class HouseGrade(models.TextChoices):
    A = "A", "A级"
    B = "B", "B级"
    C = "C", "C级（局部危房）"
    D = "D", "D级（整幢危房）"


class SourceKind(models.TextChoices):
    DECLARED = "declared", "农户申报"
    VISIT = "visit", "走访核实"
    DEPARTMENT = "department", "部门数据"
    IMPORT = "import", "文件导入"
    MANUAL = "manual", "手工修改"
    GENERATED = "generated", "演示数据"


class MemberChangeKind(models.TextChoices):
    BIRTH = "birth", "出生（自然增加）"
    MARRIAGE_IN = "marriage_in", "婚入（自然增加）"
    MIGRATION_IN = "migration_in", "迁入（自然增加）"
    OTHER_IN = "other_in", "其他增加"
    DEATH = "death", "死亡（自然减少）"
    MARRIAGE_OUT = "marriage_out", "婚出（自然减少）"
    MIGRATION_OUT = "migration_out", "迁出（自然减少）"
    OTHER_OUT = "other_out", "其他减少"


MEMBER_IN_KINDS = {
    MemberChangeKind.BIRTH,
    MemberChangeKind.MARRIAGE_IN,
    MemberChangeKind.MIGRATION_IN,
    MemberChangeKind.OTHER_IN,
}
