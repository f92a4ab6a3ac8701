"""fangpin household_as_of 户编号 --month YYYY-MM [--known-on YYYY-MM-DD] [--as USER]

What the household looked like in month M — members, size, 人均纯收入 against the line, 三保障/饮水 — from the
facts in effect in M; with --known-on, as the system knew them on that day (audit, reprints). Names and ID
numbers are masked; the read is audited."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.access import access_object
from fangpin.audit.record import audit_record
from fangpin.core.errors import NotFound
from fangpin.core.masking import mask_id_number, mask_name
from fangpin.registry.models import Household
from fangpin.registry.selectors import members_as_of
from fangpin.registry.services.assessment import (
    household_guarantees_assess,
    household_income_assess,
    month_end,
)

from ._actor import command_actor


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"{what}格式应为 YYYY-MM-DD（月份为 YYYY-MM）：{value}") from e


class Command(BaseCommand):
    help = "按生效日期查看某户某月的情况（家庭成员、人口、人均纯收入、三保障）；--known-on 按某日系统所记查看"

    def add_arguments(self, parser):
        parser.add_argument("household_no", help="户编号")
        parser.add_argument("--month", required=True, help="月份 YYYY-MM")
        parser.add_argument(
            "--known-on", default="", help="按该日 YYYY-MM-DD 系统所记的情况（缺省：现在所记）"
        )
        parser.add_argument("--as", dest="user", default="", help="以该用户身份查看（按其管辖范围）")

    def handle(self, *args, household_no: str, month: str, known_on: str, user: str, **opts):
        actor = command_actor(user or None)
        first = _date(f"{month}-01", "--month")
        known = _date(known_on, "--known-on") if known_on else None
        pk = Household.objects.filter(household_no=household_no).values_list("pk", flat=True).first()
        try:
            hh = access_object(actor, Household, pk, what="户")
        except NotFound as e:
            raise CommandError(f"户编号 {household_no}：{e.message}") from e
        end = month_end(first)
        members = members_as_of(hh.pk, end, known_on=known)
        inc = household_income_assess(hh, month=first, known_on=known)
        guarantees, _ = household_guarantees_assess(hh, on=end, known_on=known)
        audit_record(
            actor=actor,
            event_type="registry.household_view",
            obj=hh,
            region_code=hh.village_id,
            household_id=hh.pk,
            data={"month": month, "known_on": known, "via": "cli"},
        )
        w = self.stdout.write
        w(
            f"户编号 {hh.household_no}　{first:%Y年%m月}（按生效日期）"
            + (f"，按{known:%Y年%m月%d日}系统所记" if known else "")
        )
        w(f"家庭人口：{len(members)}人")
        for p in sorted(members, key=lambda p: p.pk):
            w(f"  {mask_name(p.name)}　{p.relation}　{mask_id_number(p.id_number)}")
        r = inc.result
        w(f"收入期间：{r.window_start:%Y年%m月}至{r.window_end:%Y年%m月}（{r.months_covered}个月有记录）")
        if inc.missing:
            w(f"人均纯收入：{inc.verdict}（监测收入线 {inc.line} 元）")
        else:
            w(f"人均纯收入：{inc.per_capita} 元，监测收入线 {inc.line} 元：{inc.verdict}")
        for text in r.warnings:
            w(f"  提示：{text}")
        if guarantees.ok:
            w("两不愁三保障及饮水安全：均有保障")
        for f in guarantees.failures:
            text = f.message
            for p in sorted(members, key=lambda p: len(p.name), reverse=True):
                text = text.replace(p.name, mask_name(p.name)) if p.name else text
            w(f"  未达标：{text}")
