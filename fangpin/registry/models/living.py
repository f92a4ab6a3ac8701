"""Facts of the two other national export files a county has besides 监测对象信息.

- ``HouseholdLivingConditions``: （乡村建设）户信息 — the household's production and living conditions as the
  乡村建设 file states them (one row per household, linked by 户编号). It is a second source next to the
  household row: importing it never overwrites ``Household`` fields; where both hold a fact (耕地面积,
  是否有卫生厕所 …) the import report counts the households on which they disagree.
- ``VillageProfile``: （自定义）行政村信息 — the village's facts and counts (是否出列, 总户数, 低保户数 …), one
  per 行政村 (``Region`` of level village).

Every field is nullable: a blank cell means "the file does not say", never 否 or 0. Full row history
(django-simple-history); row provenance (``Sourced``: 导入批次#N 第R行).
"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from .base import Sourced, Tracked


def _area(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=10, decimal_places=2, null=True, blank=True)


def _flag(label: str) -> models.BooleanField:
    return models.BooleanField(label, null=True, blank=True)


def _count(label: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(label, null=True, blank=True)


class HouseholdLivingConditions(Sourced, Tracked):
    household = models.OneToOneField(
        "registry.Household", verbose_name="户", on_delete=models.PROTECT, related_name="living_conditions"
    )
    natural_village = models.CharField("自然村", max_length=50, blank=True)
    # the 乡村建设 household form of the national system
    road_hardened = _flag("入户道路是否硬化")
    tap_water = _flag("是否通自来水")
    water_interval_under_24h = _flag("间隔是否低于24小时")
    safe_drinking_water = _flag("是否饮水安全")
    clean_energy = _flag("是否使用清洁能源")
    clean_energy_types = models.CharField("使用清洁能源的类型", max_length=50, blank=True)
    clean_energy_note = models.CharField("其他备注（清洁能源）", max_length=100, blank=True)
    is_dangerous_house = _flag("是否危房")
    has_shower = _flag("是否有淋浴设施")
    has_sanitary_toilet = _flag("是否有卫生户厕")
    toilet_type = models.CharField("卫生厕所类型", max_length=30, blank=True)
    toilet_usable = _flag("卫生厕所是否能正常使用")
    toilet_indoor = _flag("卫生户厕是否入室")
    toilet_in_yard = _flag("卫生户厕是否入院")
    courtyard_beautified = _flag("是否进行过庭院美化")
    # production and living indicators of the national household record
    has_electricity = _flag("是否通生活用电")
    has_production_power = _flag("是否通生产用电")
    road_type = models.CharField("入户路类型", max_length=20, blank=True)
    distance_to_main_road_km = _area("与村主干路距离（公里）")
    house_area_m2 = _area("住房面积（平方米）")
    dangerous_house_grade = models.CharField("危房级别", max_length=4, blank=True)
    water_difficult = _flag("饮水是否困难")
    main_fuel = models.CharField("主要燃料类型", max_length=20, blank=True)
    cultivated_land_mu = _area("耕地面积（亩）")
    irrigated_land_mu = _area("有效灌溉面积（亩）")
    forest_land_mu = _area("林地面积（亩）")
    grain_for_green_mu = _area("退耕还林面积（亩）")
    orchard_mu = _area("林果面积（亩）")
    pasture_mu = _area("牧草地面积（亩）")
    water_surface_mu = _area("水面面积（亩）")

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "户生产生活条件（乡村建设户信息）"
        verbose_name_plural = "户生产生活条件（乡村建设户信息）"

    def __str__(self) -> str:
        return f"{self.household_id} 生产生活条件"


class VillageProfile(Sourced, Tracked):
    village = models.OneToOneField(
        "regions.Region", verbose_name="行政村", on_delete=models.PROTECT, related_name="profile"
    )
    delisted = _flag("是否出列")
    households_total = _count("总户数")
    population_total = _count("总人口数")
    dibao_households = _count("低保户数")
    dibao_persons = _count("低保人口数")
    tekun_persons = _count("特困供养人口数")
    disabled_persons = _count("残疾人口数")
    dangerous_house_households = _count("危房户数")
    unsafe_water_households = _count("未实现饮水安全户数")
    pension_insured_persons = _count("参加城乡居民基本养老保险人数")
    collective_income_10k = models.DecimalField(
        "村级集体经济收入（万元）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    primary_schools = _count("村小学（个数）")
    clinics = _count("行政村卫生室个数")
    public_toilets = _count("行政村公共卫生厕所个数")
    doctors = _count("行政村执业（助理）医师（人）")
    waste_points = _count("行政村生产生活垃圾集中堆放点个数（个）")
    cultural_rooms = _count("行政村文化（图书）室个数（个）")
    bus_service = _flag("是否通客运班车")
    paved_road_to_township = _flag("到乡镇是否通沥青（水泥）路")
    # further village counts of the national village record (legacy AD01), stored when a file has them
    water_difficult_households = _count("饮水困难户数")
    natural_villages = _count("自然村（村民小组）数")
    labour_persons = _count("劳动力人数")
    migrant_workers = _count("外出务工人数")
    broadband_households = _count("通宽带户数（户）")

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "行政村信息"
        verbose_name_plural = "行政村信息"

    def __str__(self) -> str:
        return f"{self.village_id} 行政村信息"
