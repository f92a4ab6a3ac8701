"""户: the unit of the registry. Production and living conditions live on the household row."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from fangpin.core.fields import BlindIndexField, EncryptedCharField

from ..choices import HouseGrade, HouseholdStatus, HouseholdType
from .base import Effective, Sourced, Tracked


class Household(Sourced, Tracked, Effective):
    household_no = models.CharField("户编号", max_length=32, unique=True)
    village = models.ForeignKey(
        "regions.Region", verbose_name="行政村", on_delete=models.PROTECT, related_name="+"
    )
    group_name = models.CharField("村民小组", max_length=50, blank=True)
    address = models.CharField("家庭住址", max_length=200, blank=True)
    household_type = models.CharField("户类型", max_length=8, choices=HouseholdType.choices)
    status = models.CharField(
        "状态", max_length=16, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE
    )
    status_reason = models.CharField("状态说明", max_length=200, blank=True)
    # encrypted at rest (core.fields); lookups through phone_bidx / phone_tail
    phone = EncryptedCharField(
        "户联系电话", purpose="phone", plain_max_length=20, index="phone_bidx", blank=True
    )
    phone_bidx = BlindIndexField("户联系电话索引", source="phone", db_index=True)
    phone_tail = BlindIndexField("户联系电话尾号索引", source="phone", kind="tail", db_index=True)
    exited_year = models.PositiveSmallIntegerField("脱贫年度", null=True, blank=True)
    no_labour_protected = models.BooleanField("整户无劳动能力兜底保障户", default=False)
    in_relocation_site = models.BooleanField("居住在易地扶贫搬迁集中安置区", default=False)

    # 生产条件
    cultivated_land_mu = models.DecimalField("耕地面积（亩）", max_digits=8, decimal_places=2, default=0)
    irrigated_land_mu = models.DecimalField("有效灌溉面积（亩）", max_digits=8, decimal_places=2, default=0)
    forest_land_mu = models.DecimalField("林地面积（亩）", max_digits=8, decimal_places=2, default=0)
    grain_for_green_mu = models.DecimalField("退耕还林面积（亩）", max_digits=8, decimal_places=2, default=0)
    orchard_mu = models.DecimalField("林果面积（亩）", max_digits=8, decimal_places=2, default=0)
    pasture_mu = models.DecimalField("牧草地面积（亩）", max_digits=8, decimal_places=2, default=0)
    water_surface_mu = models.DecimalField("水面面积（亩）", max_digits=8, decimal_places=2, default=0)

    # 生活条件 / 住房
    house_area_m2 = models.DecimalField("住房面积（平方米）", max_digits=8, decimal_places=2, default=0)
    house_grade = models.CharField("住房安全等级", max_length=1, choices=HouseGrade.choices, blank=True)
    house_appraised_on = models.DateField("住房鉴定日期", null=True, blank=True)
    relocated_keys_received = models.BooleanField("搬迁已交钥匙", default=False)
    has_electricity = models.BooleanField("是否通生活用电", default=True)
    has_sanitary_toilet = models.BooleanField("是否有卫生厕所", default=True)
    road_hardened = models.BooleanField("入户道路是否硬化", default=True)
    distance_to_main_road_km = models.DecimalField(
        "与村主干路距离（公里）", max_digits=6, decimal_places=2, default=0
    )
    food_ok = models.BooleanField("不愁吃", default=True)
    clothing_ok = models.BooleanField("不愁穿", default=True)

    # 饮水安全指标 (T/CHES 18-2018)
    water_piped = models.BooleanField("供水入户", default=True)
    water_litres_per_day = models.DecimalField(
        "人均日供水量（升）", max_digits=6, decimal_places=1, null=True, blank=True
    )
    water_scarce_area = models.BooleanField("缺水地区", default=False)
    water_quality_ok = models.BooleanField("水质达标", null=True, blank=True)
    water_fetch_minutes = models.DecimalField(
        "取水往返时间（分钟）", max_digits=6, decimal_places=1, null=True, blank=True
    )
    water_horizontal_m = models.DecimalField(
        "取水水平距离（米）", max_digits=8, decimal_places=1, null=True, blank=True
    )
    water_vertical_m = models.DecimalField(
        "取水垂直距离（米）", max_digits=8, decimal_places=1, null=True, blank=True
    )
    water_interruption_days = models.PositiveSmallIntegerField("年累计断水天数", null=True, blank=True)
    # 是否解决安全饮用水 as the national system states it (blank = not stated); the water judgement uses it
    safe_drinking_water = models.BooleanField("是否解决安全饮用水", null=True, blank=True)

    # Household-level columns of the national export with no structured home, kept as the file states
    # them (canonical text, header → value): the 风险消除后… block, 因自然灾害子项, the stated 三保障 flags.
    national_facts = models.JSONField("国家系统其他指标", default=dict, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"
        indexes = [
            models.Index(fields=["village", "household_type"]),
            # a village's list in 户编号 order (the household list's default sort), read from the index
            models.Index(fields=["village", "household_no"], name="registry_hh_village_no"),
        ]

    def __str__(self) -> str:
        return self.household_no
