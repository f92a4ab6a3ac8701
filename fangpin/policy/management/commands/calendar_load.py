"""fangpin calendar_load — install the shipped State Council holiday calendars (policy/data/calendar_cn.json)
as ``calendar.days`` parameters, for the years not recorded yet. Deadlines in working days then skip
public holidays and count the weekend days worked instead."""

from django.core.management.base import BaseCommand

from fangpin.policy.calendar import calendar_load


class Command(BaseCommand):
    help = "导入国务院节假日安排（工作日历），用于按工作日计算的办理时限"

    def handle(self, *args, **opts):
        n = calendar_load()
        self.stdout.write(f"工作日历：新导入{n}个年度")
