import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from fangpin.demo.simulate import scripted_month
from fangpin.monitoring.models import Lead, MonitoringObject
from fangpin.monitoring.tests.helpers import poor_exited_household, sudden_household
from fangpin.testing import factories as f


@pytest.mark.django_db
def test_monitoring_month_command_runs_the_month_through_the_services(personas):
    from fangpin.demo.generator.income import NOTE_NEW_ILLNESS
    from fangpin.demo.models import DemoDataset
    from fangpin.screening.models import ScreeningHit, ScreeningRun

    # a demo dataset whose as_of month is the scripted one: its department files carry its stories
    DemoDataset.objects.create(county_code="410506", seed=0, as_of=dt.date(2025, 6, 20))
    poor = poor_exited_household()
    sudden = sudden_household(f.VILLAGE_A2)
    # in hospital last year (the demo's marker): the 医保 file has a stay of 30-80 % of it this month
    sudden.income_records.update(compliant_out_of_pocket=40000, note=NOTE_NEW_ILLNESS)
    ok = f.household(f.VILLAGE_B1, household_type="一般农户")
    f.person(ok)
    f.income(ok, year=2024, wage=40000)
    out = StringIO()
    call_command(
        "monitoring_month", "--month", "2025-06", "--county", "410506", "--self-applications", "0", stdout=out
    )
    text = out.getvalue()
    assert "走访 3 户次" in text and "纳入 2" in text
    assert MonitoringObject.objects.get(household=poor).category == "脱贫不稳定户"
    assert MonitoringObject.objects.get(household=sudden).category == "突发严重困难户"
    assert not MonitoringObject.objects.filter(household=ok).exists()
    lead = Lead.objects.get(household=sudden)
    assert set(lead.sources.values_list("channel", flat=True)) == {"department_screening"}
    # the lead comes from a real screening run over the uploaded 医保 batch, with its evidence
    run = ScreeningRun.objects.get(month="2025-06")
    assert run.status == "done" and run.engine == "duckdb" and {b["kind"] for b in run.batches} >= {"medical"}
    hit = ScreeningHit.objects.get(run=run, household=sudden)
    assert hit.rule_code == "MED_STAY_OTHER" and hit.lead_id == lead.pk
    assert hit.evidence["record"]["visit_type"] == "住院" and hit.evidence["param"]["key"].startswith(
        "screening.medical."
    )
    assert lead.sources.get().source_ref == f"screening_run:{run.pk}:rule:MED_STAY_OTHER"
    assert lead.opened_on.month == 6 and lead.opened_on.year == 2025  # dated on the scripted run day
    assert f"部门筛查 #{run.pk}" in text and "MED_STAY_OTHER 1" in text
    # seven months later: the helpers' measures are recorded as done, but without income above the line
    # for six months elimination is refused with its code
    rep = scripted_month(county="410506", month=dt.date(2026, 1, 1), self_applications=0)
    assert rep.measures_done >= 2
    assert rep.eliminations_proposed == 0 and rep.refusals["elimination_income_unstable"] >= 2


@pytest.mark.django_db
def test_overdue_command_lists_per_township(personas):
    from fangpin.monitoring.services import identification, leads

    hh = poor_exited_household()
    lead = leads.lead_submit(
        actor=personas["cadre_a1"], household=hh, channel="other", on=dt.date(2025, 6, 2)
    )
    identification.case_open(actor=personas["cadre_a1"], lead=lead, on=dt.date(2025, 6, 2))
    out = StringIO()
    call_command("overdue", "--on", "2025-06-30", "--as", "township_a", "--no-visits", stdout=out)
    assert "马家乡" in out.getvalue() and "入户核查" in out.getvalue()
    out = StringIO()
    call_command("overdue", "--on", "2025-06-30", "--as", "cadre_b1", stdout=out)
    assert "无逾期事项" in out.getvalue()
