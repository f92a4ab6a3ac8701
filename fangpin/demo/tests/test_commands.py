"""setup / demo_county / check_registry through the real commands and services, on the test DB."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from fangpin.accounts.models import User
from fangpin.audit.models import AuditEvent
from fangpin.demo.models import DemoDataset, GeneratedMonitoring, PlantedDefect
from fangpin.demo.services import setup as setup_service
from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person
from fangpin.registry.selectors import members_as_of

AS_OF = "2026-06-15"


@pytest.fixture
def quick_regions(monkeypatch):
    """The session already loaded 龙安区's divisions; loading all of 41/42 again is the loader's job,
    tested there — here it would only slow the test."""
    from fangpin.regions.models import Region

    monkeypatch.setattr(setup_service, "load_regions", lambda **kw: Region.objects.count())


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_setup_is_idempotent_and_prints_logins_once(quick_regions):
    first = _run("setup")
    assert "county_admin" in first and "village_cadre" in first
    admin = User.objects.get(username="county_admin")
    assert admin.role == "county_admin" and admin.region_id == "410506000000"
    cadre = User.objects.get(username="village_cadre")
    assert cadre.region.level == 5 and cadre.region_id.startswith("410506")
    pw = next(line.split()[1] for line in first.splitlines() if line.strip().startswith("county_admin"))
    assert admin.check_password(pw)
    second = _run("setup")
    assert User.objects.filter(username="county_admin").count() == 1
    assert "已存在" in second and pw not in second
    assert User.objects.get(username="county_admin").check_password(pw)


@pytest.mark.django_db
def test_demo_county_generates_once_with_history_and_provenance(quick_regions):
    out = _run("demo_county", "--scale", "0.02", "--seed", "0", "--as-of", AS_OF)
    ds = DemoDataset.objects.get(county_code="410506")
    assert "户" in out and "county_admin" in out
    assert Household.objects.count() == ds.counts["households"] >= 80
    assert Person.objects.filter(is_member=True).count() == ds.counts["persons"]
    assert PlantedDefect.objects.filter(dataset=ds).count() == ds.counts["planted_defects"] > 0
    # five complete years and the current year up to the month before the cut-off (Jan-May 2026)
    assert IncomeRecord.objects.count() == ds.counts["households"] * 6
    assert IncomeRecord.objects.filter(period_start=dt.date(2026, 1, 1)).count() == ds.counts["households"]
    assert set(IncomeRecord.objects.filter(period_start__year=2026).values_list("period_end", flat=True)) == {
        dt.date(2026, 5, 31)
    }
    assert set(Household.objects.values_list("source_kind", flat=True)) == {"generated"}
    assert AuditEvent.objects.filter(event_type="demo.generated").count() == 1
    assert GeneratedMonitoring.objects.filter(dataset=ds).count() == ds.counts["monitoring_objects"]
    # a second run leaves the registry alone
    again = _run("demo_county", "--scale", "0.02", "--seed", "0", "--as-of", AS_OF)
    assert "跳过" in again and DemoDataset.objects.count() == 1
    assert Household.objects.count() == ds.counts["households"]

    # the counts printed are the database's, and the demo village has work in progress for its cadre
    from fangpin.monitoring.models import Case, Lead

    cadre_village = User.objects.get(username="village_cadre").region_id
    open_leads = Lead.objects.filter(status="open").count()
    open_cases = Case.objects.filter(status__in=["open", "paused"]).count()
    assert f"{Household.objects.count():>8} 户\n" in again
    assert f"{open_leads:>8} 条待核实线索" in again and f"{open_cases:>8} 件办理中的程序" in again
    # (a 0.02 county has few households per village: the plan is cut to the households there are)
    n = Lead.objects.filter(village_id=cadre_village).count()
    assert 1 <= n <= 5 and f"演示村的在办事项：{n}条线索" in out and "演示村的在办事项" not in again
    steps = (
        Case.objects.filter(village_id=cadre_village, status="open")
        .order_by("id")
        .values_list("current_step", flat=True)
    )
    assert list(steps) == ["deliberate", "verify", "township"][: max(0, n - 2)]
    assert "先试这个账号：village_cadre" in out and "有风险的户：在“户档案”搜索" in out

    # the demo helper looks after households of their own village, and sees only those
    from fangpin.monitoring.models import Assignment
    from fangpin.registry.selectors import household_list

    helper = User.objects.get(username="helper")
    assigned = set(
        Assignment.objects.filter(user=helper, end_on__isnull=True).values_list("household_id", flat=True)
    )
    assert "helper 负责" in out and 0 < len(assigned) <= 12
    assert set(household_list(actor=helper).values_list("id", flat=True)) == assigned
    assert Assignment.objects.filter(user=helper).count() == len(assigned)  # the second run added none

    # "what did this household look like in month M": births and deaths are dated in the history
    birth = MemberChange.objects.filter(kind="birth").select_related("person").first()
    if birth:
        before = {p.id for p in members_as_of(birth.household_id, birth.date - dt.timedelta(days=1))}
        after = {p.id for p in members_as_of(birth.household_id, birth.date + dt.timedelta(days=1))}
        assert birth.person_id not in before and birth.person_id in after
    death = MemberChange.objects.filter(kind="death").first()
    assert death is not None
    before = {p.id for p in members_as_of(death.household_id, death.date - dt.timedelta(days=1))}
    after = {p.id for p in members_as_of(death.household_id, death.date + dt.timedelta(days=1))}
    assert death.person_id in before and death.person_id not in after
    assert Person.objects.get(id=death.person_id).death_date == death.date


@pytest.mark.django_db
def test_the_demo_county_is_scored_for_last_month_and_this_one_once(quick_regions):
    """A first-time user finds the early warning at work: one model trained before last month scores
    last month and this month (the household file's trend); a rerun neither retrains nor rescores."""
    from fangpin.risk.models import RiskModel, RiskScore

    out = _run("demo_county", "--scale", "0.05", "--seed", "0", "--as-of", AS_OF)
    model = RiskModel.objects.get()
    on = dt.date.fromisoformat(AS_OF)
    this = on.replace(day=1)
    last = (this - dt.timedelta(days=1)).replace(day=1)
    assert model.trained_through == last
    months = set(RiskScore.objects.values_list("month", flat=True))
    assert months == {last, this}
    n = RiskScore.objects.filter(month=this).count()
    assert n > 0 and f"已用风险模型为本县 {n} 户评分" in out
    ids = set(RiskScore.objects.values_list("id", flat=True))
    again = _run("demo_county", "--scale", "0.05", "--seed", "0", "--as-of", AS_OF)
    assert RiskModel.objects.count() == 1 and set(RiskScore.objects.values_list("id", flat=True)) == ids
    assert "风险预警：" not in again


@pytest.mark.django_db
def test_demo_enrols_monitoring_objects_through_the_monitoring_service(quick_regions):
    from fangpin.monitoring.models import MonitoringObject

    _run("demo_county", "--scale", "0.05", "--seed", "0", "--as-of", AS_OF)
    generated = GeneratedMonitoring.objects.all()
    assert generated.count() > 0
    assert MonitoringObject.objects.count() == generated.filter(enrolled=True).count() == generated.count()
    eliminated = generated.exclude(eliminated_on=None).count()
    assert MonitoringObject.objects.filter(status="eliminated").count() == eliminated
    # 一户一策: every active object got measures through monitoring's measure_add
    from fangpin.monitoring.models import Measure

    active = MonitoringObject.objects.filter(status="active")
    assert active.exists()
    assert set(Measure.objects.values_list("monitoring_object_id", flat=True)) == set(
        active.values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_check_registry_command_counts_and_writes_xlsx(quick_regions, tmp_path):
    _run("demo_county", "--scale", "0.03", "--seed", "2", "--as-of", AS_OF)
    out = _run("check_registry", "--region", "410506", "--on", AS_OF, "--out", str(tmp_path / "r.xlsx"))
    assert "P-MED-INSURANCE" in out and "合计" in out
    n_planted = PlantedDefect.objects.filter(code="P-MED-INSURANCE").count()
    line = next(x for x in out.splitlines() if "P-MED-INSURANCE" in x)
    assert int(line.split()[1]) == n_planted
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert {"汇总", "问题明细"} <= set(wb.sheetnames)
    hh = PlantedDefect.objects.filter(code="P-MED-INSURANCE").first().household_no
    one = _run("check_registry", "--household", hh, "--code", "P-MED-INSURANCE", "--on", AS_OF)
    assert int(next(x for x in one.splitlines() if "P-MED-INSURANCE" in x).split()[1]) >= 1
