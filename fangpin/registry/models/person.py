"""人 and the 自然增加/自然减少 events that move people in and out of households."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from fangpin.core.fields import BlindIndexField, EncryptedCharField, SealedJSONField

from ..choices import (
    Dibao,
    DisabilityCategory,
    Education,
    Gender,
    Health,
    IdType,
    LabourSkill,
    MemberChangeKind,
    Relation,
    SchoolStatus,
    Tekun,
    WorkStatus,
)
from .base import Effective, Sourced, Tracked


class Person(Sourced, Tracked, Effective):
    household = models.ForeignKey(
        "registry.Household", verbose_name="户", on_delete=models.PROTECT, related_name="persons"
    )
    person_no = models.CharField("人编号", max_length=40, blank=True)
    is_member = models.BooleanField("当前为家庭成员", default=True, db_index=True)
    name = models.CharField("姓名", max_length=50)
    id_type = models.CharField("证件类型", max_length=8, choices=IdType.choices, default=IdType.RESIDENT_ID)
    # encrypted at rest (core.fields): the attribute is the plaintext; lookups go through id_number_bidx
    id_number = EncryptedCharField(
        "证件号码", purpose="id_number", plain_max_length=18, index="id_number_bidx", null=True, blank=True
    )
    id_number_bidx = BlindIndexField("证件号码索引", source="id_number", unique=True)
    id_number_tail = BlindIndexField("证件号码尾号索引", source="id_number", kind="tail", db_index=True)
    # the canonical number's index (a 15-digit legacy number upgraded …): the duplicate-ID rule's lookup
    id_number_canon = BlindIndexField("证件号码归一索引", source="id_number", kind="canonical", db_index=True)
    # 残疾人证号 = the ID number + category + grade: encrypted like it (no lookups by it)
    disability_cert_no = EncryptedCharField(
        "残疾人证号", purpose="disability_cert_no", plain_max_length=22, blank=True
    )
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    ethnicity = models.CharField("民族", max_length=20, default="汉族")
    relation = models.CharField("与户主关系", max_length=8, choices=Relation.choices)
    education = models.CharField("文化程度", max_length=10, choices=Education.choices, blank=True)
    school_status = models.CharField("在校生状况", max_length=12, choices=SchoolStatus.choices, blank=True)
    out_of_school = models.BooleanField("义务教育阶段失学辍学", default=False)
    out_of_school_reason = models.CharField("失学或辍学原因", max_length=30, blank=True)
    health = models.CharField("健康状况", max_length=8, choices=Health.choices, default=Health.HEALTHY)
    chronic_disease = models.CharField("病种", max_length=50, blank=True)
    disability_category = models.CharField(
        "残疾类别", max_length=1, choices=DisabilityCategory.choices, blank=True
    )
    disability_grade = models.PositiveSmallIntegerField("残疾等级", null=True, blank=True)
    disability_subsidy = models.BooleanField("享受残疾人两项补贴", default=False)
    labour_skill = models.CharField(
        "劳动技能", max_length=12, choices=LabourSkill.choices, default=LabourSkill.ORDINARY
    )
    work_status = models.CharField(
        "务工状况", max_length=10, choices=WorkStatus.choices, default=WorkStatus.NOT_WORKING
    )
    work_location = models.CharField("务工所在地", max_length=50, blank=True)
    work_months = models.PositiveSmallIntegerField("务工时间（月）", default=0)
    public_welfare_job = models.BooleanField("公益性岗位", default=False)
    public_welfare_job_months = models.PositiveSmallIntegerField("公益性岗位（月数）", default=0)
    # the 公益性岗位 cell as the national system writes it (the post, e.g. 护林员; 是 when unnamed)
    public_welfare_job_name = models.CharField("公益性岗位名称", max_length=50, blank=True)
    medical_resident = models.BooleanField("参加城乡居民基本医疗保险", default=True)
    medical_employee = models.BooleanField("参加城镇职工基本医疗保险", default=False)
    critical_illness_insurance = models.BooleanField("参加大病保险", default=True)
    medical_assistance = models.BooleanField("接受医疗救助", default=False)
    pension_resident = models.BooleanField("参加城乡居民基本养老保险", default=False)
    pension_employee = models.BooleanField("参加城镇职工基本养老保险", default=False)
    dibao = models.CharField("享受低保政策情况", max_length=6, choices=Dibao.choices, default=Dibao.NONE)
    tekun = models.CharField("享受特困供养政策情况", max_length=6, choices=Tekun.choices, default=Tekun.NONE)
    tekun_amount = models.DecimalField("特困人员救助供养金", max_digits=10, decimal_places=2, default=0)
    phone = EncryptedCharField(
        "联系电话", purpose="phone", plain_max_length=20, index="phone_bidx", blank=True
    )
    phone_bidx = BlindIndexField("联系电话索引", source="phone", db_index=True)
    phone_tail = BlindIndexField("联系电话尾号索引", source="phone", kind="tail", db_index=True)
    death_date = models.DateField("死亡日期", null=True, blank=True)
    # Person-level columns of the national export with no structured home, kept as the file states them
    # (header → canonical text): the 帮扶措施 columns (产业帮扶 … 饮水安全保障), 实施开发式帮扶措施情况,
    # 其他备注, 信息采集人 …
    # the national columns kept as they are; a phone among them (信息采集人联系电话) is sealed at rest
    national_facts = SealedJSONField("国家系统其他指标", default=dict, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "人"
        verbose_name_plural = "人"
        indexes = [
            models.Index(fields=["household", "is_member"]),
            models.Index(fields=["name", "birth_date"]),
        ]

    def __str__(self) -> str:
        return self.name


class MemberChange(Sourced):
    """自然增加 / 自然减少: why a person entered or left a household, and when."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="member_changes"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="member_changes")
    kind = models.CharField("变更类型", max_length=16, choices=MemberChangeKind.choices)
    date = models.DateField("变更日期")
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "人口变更"
        verbose_name_plural = "人口变更"
        ordering = ["date", "id"]
