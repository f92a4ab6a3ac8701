"""The scripted month: what a county's cadres and reviewers do in one month, driven through the real
services on whatever households the registry holds (the demo county). Used by ``fangpin monitoring_month``
and its test; deterministic for a seed. Decisions follow the rules the services enforce — refusals
(DomainError) are counted by code, never bypassed."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Min

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.monitoring import selectors
from fangpin.monitoring.models import CaseStatus, Lead, LeadSource, LeadStatus, MonitoringObject, ObjectStatus
from fangpin.monitoring.services import assistance, cases, elimination, identification, leads, visits
from fangpin.policy.params import param_value
from fangpin.registry.models import Household
from fangpin.registry.services.assessment import household_income_assess

ASPECTS = ("guarantees", "water", "members", "farming", "environment", "income", "work", "health", "disaster")


@dataclass
class MonthReport:
    month: str
    visits: int = 0
    leads_by_channel: Counter = field(default_factory=Counter)
    cases_opened: int = 0
    enrolled_by_category: Counter = field(default_factory=Counter)
    rejected: int = 0
    refusals: Counter = field(default_factory=Counter)
    measures: int = 0
    measures_done: int = 0
    already_monitored: int = 0
    eliminations_proposed: int = 0
    eliminated: int = 0
    reversals_proposed: int = 0
    reversed: int = 0
    overdue: int = 0
    screening: dict = field(default_factory=dict)  # the month's screening run: id, rows, hits, leads per rule

    def lines(self) -> list[str]:
        return [
            f"月份 {self.month}",
            f"走访 {self.visits} 户次",
            "线索 " + "，".join(f"{k} {v}" for k, v in sorted(self.leads_by_channel.items())),
            _screening_line(self.screening),
            f"启动识别 {self.cases_opened}，纳入 {sum(self.enrolled_by_category.values())}"
            + "（"
            + "，".join(f"{k} {v}" for k, v in sorted(self.enrolled_by_category.items()))
            + "）",
            f"不予纳入 {self.rejected}，新增帮扶措施 {self.measures}，措施落实 {self.measures_done}",
            f"已是监测对象的线索来源 {self.already_monitored}",
            f"申请风险消除 {self.eliminations_proposed}，已消除 {self.eliminated}",
            f"渐退期内返贫风险：申请风险消除回退 {self.reversals_proposed}，已回退 {self.reversed}",
            "被拒绝的操作 " + ("，".join(f"{k} {v}" for k, v in sorted(self.refusals.items())) or "无"),
            f"月末逾期事项 {self.overdue}",
        ]


def _screening_line(s: dict) -> str:
    if not s:
        return "部门筛查 未运行"
    rules = "，".join(f"{k} {v}" for k, v in sorted(s["leads_per_rule"].items()) if v) or "无"
    return (
        f"部门筛查 #{s['run']}：{s['batches']} 个部门批次 {s['rows']} 行，命中 {s['hits']}，"
        f"推送线索（按规则）{rules}；其中并入已有线索 {s['joined_open_leads']}，"
        f"待人工复核匹配 {s['link_reviews_pending']}，用时 {s['seconds']} 秒"
    )


def _user(username: str, role: str, region: str, department: str = "") -> User:
    u, created = User.objects.get_or_create(
        username=username,
        defaults={"role": role, "region_id": region, "display_name": username, "department": department},
    )
    if created:
        u.set_unusable_password()
        u.save(update_fields=["password"])
    return u


def _dept_officer(kind: str, county_code: str) -> User:
    """The officer of the department that pushes ``kind`` (a demo user from ``fangpin setup`` when there is
    one, else a simulation user of that department)."""
    from fangpin.screening.sources import SOURCES

    depts = SOURCES[kind].departments
    u = (
        User.objects.filter(role=Role.DEPT_OFFICER, department__in=depts, is_active=True)
        .order_by("id")
        .first()
    )
    return u or _user(f"sim_dept_{kind}_{county_code[:6]}", Role.DEPT_OFFICER, county_code, depts[0])


def _department_screening(
    rep: MonthReport, county: str, first: dt.date, run_day: dt.date, admin, seed, attempt
):
    """Uploads the demo county's department files of the month as batches and runs the screening engine
    on them; counts the leads of the run (new ones by channel, reports on monitored households apart)."""
    import tempfile

    from fangpin.demo.departments import demo_department_files
    from fangpin.screening.services.runs import screening_run_execute, screening_run_start
    from fangpin.screening.services.uploads import dept_batch_upload

    t0 = time.perf_counter()
    month = f"{first:%Y-%m}"
    county_code = county.ljust(12, "0")
    batches = []
    with tempfile.TemporaryDirectory(prefix="fangpin-depts-") as tmp:
        files = demo_department_files(
            county=county, month=month, out=Path(tmp), seed=seed, until=run_day - dt.timedelta(days=1)
        )
        for kind, path in files.files.items():
            b = attempt(
                dept_batch_upload,
                actor=_dept_officer(kind, county_code),
                kind=kind,
                path=path,
                period=month,
                on=run_day,
            )
            if b is not None:
                batches.append(b)
    run = attempt(screening_run_start, actor=admin, month=month, engine="duckdb", run_now=False, on=run_day)
    if run is None:
        return
    run = screening_run_execute(run.pk)  # inline: the scripted month waits for its run
    srcs = LeadSource.objects.filter(source_ref__startswith=f"screening_run:{run.pk}:")
    mine = set(srcs.values_list("id", flat=True))
    lead_ids = set(srcs.filter(already_monitored=False).values_list("lead_id", flat=True))
    first_source = dict(
        LeadSource.objects.filter(lead_id__in=lead_ids)
        .values("lead_id")
        .annotate(first=Min("id"))
        .values_list("lead_id", "first")
    )
    new = sum(1 for lid in lead_ids if first_source[lid] in mine)  # leads the run opened
    rep.leads_by_channel["department_screening"] += new
    rep.already_monitored += srcs.filter(already_monitored=True).values("lead_id").distinct().count()
    rep.screening = {
        "run": run.pk,
        "batches": len(batches),
        "rows": sum(b.rows_total for b in batches),
        "hits": run.counts.get("hits", 0),
        "leads_per_rule": run.counts.get("leads_per_rule", {}),
        "joined_open_leads": len(lead_ids) - new,  # reports added to a lead already open (e.g. a visit's)
        "link_reviews_pending": run.counts.get("link_reviews_pending", 0),
        "events": [asdict(e) for e in files.events],  # the demo's answer key
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _workday(d: dt.date, n: int = 0) -> dt.date:
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return clock.add_working_days(d, n) if n else d


def _review_chain(attempt, case, start: dt.date, village_user, township_user, county_user) -> bool:
    """核实 → 评议 → 公示 → 乡镇 → 县 of an elimination or reversal case; False at the first refusal."""
    d = start
    for step, who, gap in (
        ("verify", village_user, 0),
        ("deliberate", village_user, 1),
        ("publicize", village_user, 5),
        ("township", township_user, 1),
        ("county", county_user, 1),
    ):
        d = d + dt.timedelta(days=gap)
        data = {"attendance": 13, "votes_for": 12} if step == "deliberate" else {}
        if attempt(cases.case_step_complete, actor=who, case=case, step=step, on=d, data=data) is None:
            return False
    return True


def scripted_month(*, county: str, month: dt.date, seed: int = 0, self_applications: int = 3) -> MonthReport:
    """Runs one month for ``county`` (6-digit code): visits due → 风险消除回退 for households in their
    渐退期 found under the line again → leads from the three channels → identification of every open
    lead → measures for new objects → eliminations that pass the guards."""
    rng = random.Random(f"{seed}:{county}:{month:%Y%m}")
    first = clock.month_start(month)
    rep = MonthReport(month=f"{first:%Y-%m}")
    county_code = county.ljust(12, "0")
    admin = _user(f"sim_admin_{county}", Role.COUNTY_ADMIN, county_code)
    reviewer = _user(f"sim_county_{county}", Role.COUNTY_REVIEWER, county_code)
    cadres: dict[str, User] = {}
    townships: dict[str, User] = {}

    def cadre(village: str) -> User:
        if village not in cadres:
            cadres[village] = _user(f"sim_cadre_{village}", Role.VILLAGE_CADRE, village)
        return cadres[village]

    def township(village: str) -> User:
        t = village[:9] + "000"
        if t not in townships:
            townships[t] = _user(f"sim_township_{t}", Role.TOWNSHIP_REVIEWER, t)
        return townships[t]

    def attempt(fn, *a, **kw):
        try:
            with transaction.atomic():
                return fn(*a, **kw)
        except DomainError as e:
            rep.refusals[e.code] += 1
            return None

    households = {h.id: h for h in Household.objects.filter(village__code__startswith=county)}
    # objects whose risk was eliminated and that are still in their 渐退期 (key households)
    exiting = {
        o.household_id: o
        for o in MonitoringObject.objects.filter(
            village__code__startswith=county,
            status=ObjectStatus.ELIMINATED,
            gradual_exit_until__gte=first,
        )
    }
    relapsed: list[tuple[MonitoringObject, dt.date]] = []
    # 1. 基层干部排查: every household due this month is visited on a working day of the month
    for due in selectors.visits_due(actor=admin, month=first):
        hh = households.get(due.household_id)
        if hh is None:
            continue
        day = _workday(first + dt.timedelta(days=rng.randrange(0, 20)))
        inc = household_income_assess(hh, month=first)
        below = inc.below_line
        monitored = MonitoringObject.objects.filter(household=hh, status=ObjectStatus.ACTIVE).exists()
        # in the 渐退期 a returned risk (income or, after medical bills, income net of them under the
        # line) is not a new lead but a 风险消除回退 of the same object
        relapse = hh.id in exiting and not monitored and (inc.below_line or inc.below_line_after_rigid)
        risky = below and not monitored and not relapse
        problems = {"income": {"ok": False, "note": "收入低于监测范围"}} if risky else {}
        if relapse:
            problems = {"income": {"ok": False, "note": "渐退期内收入（扣除合规自付医疗支出后）低于监测范围"}}
        v = attempt(
            visits.visit_log,
            actor=cadre(hh.village_id),
            household=hh,
            visited_on=day,
            checklist={a: problems.get(a, {"ok": True}) for a in ASPECTS},
            has_risk=risky,
            risk_types=["因务工就业不稳"] if risky else [],
            note="提请风险消除回退" if relapse else "",
        )
        if v is not None:
            rep.visits += 1
            if risky:
                rep.leads_by_channel["cadre_visit"] += 1
            if relapse:
                relapsed.append((exiting[hh.id], day))
    # 1b. 风险消除回退: the village proposes it for the relapsed households, through the same chain
    for obj, day in relapsed:
        vill = obj.household.village_id
        case = attempt(
            elimination.reversal_propose,
            actor=cadre(vill),
            monitoring_object=obj,
            reason="渐退期走访发现收入（扣除合规自付医疗支出后）低于监测范围",
            on=day,
        )
        if case is None:
            continue
        rep.reversals_proposed += 1
        if _review_chain(attempt, case, day, cadre(vill), township(vill), reviewer):
            rep.reversed += 1
    # 2. 农户自主申报: a few households apply (with the signed 承诺授权书)
    pool = sorted(households)
    for hid in rng.sample(pool, min(self_applications, len(pool))):
        hh = households[hid]
        if lead := attempt(
            leads.lead_submit,
            actor=cadre(hh.village_id),
            household=hh,
            channel="self_application",
            evidence={
                "consent": {"signed": True, "signed_on": first.isoformat()},
                "form": {"reason": "因病支出大"},
            },
            risk_types=["因病"],
            on=_workday(first),
        ):
            key = "already_monitored" if lead.status == LeadStatus.CLOSED else "self_application"
            if key == "already_monitored":
                rep.already_monitored += 1
            else:
                rep.leads_by_channel[key] += 1
    # 3. 部门筛查预警: the departments push the month's files (the demo world, dated up to the day before the
    #    run), their officers upload them, and a screening run (DuckDB, inline) compares them with the
    #    registry; its hits arrive through lead_submit as source_ref "screening_run:<id>:rule:<code>". The
    #    run happens on a working day in the month's second week; leads and uploads are dated that day.
    run_day = clock.add_working_days(_workday(first), 7)
    with clock.pinned_today(run_day):
        _department_screening(rep, county, first, run_day, admin, seed, attempt)
    # 4. 识别纳入: every open lead of the county through the chain
    for lead in Lead.objects.filter(village__code__startswith=county, status=LeadStatus.OPEN).order_by("id"):
        vill = lead.household.village_id
        start = max(_workday(first, 2), _workday(lead.opened_on))
        case = attempt(identification.case_open, actor=cadre(vill), lead=lead, on=start)
        if case is None:
            continue
        rep.cases_opened += 1
        d = clock.add_working_days(start, 1)
        if attempt(cases.case_step_complete, actor=cadre(vill), case=case, step="verify", on=d) is None:
            cases.case_reject(
                actor=cadre(vill), case=case, reason="入户核查：收入高于监测范围，无刚性支出困难", on=d
            )
            rep.rejected += 1
            continue
        d = clock.add_working_days(d, 1)
        cases.case_step_complete(actor=cadre(vill), case=case, step="compare", on=d)
        d = clock.add_working_days(d, 1)
        cases.case_step_complete(
            actor=cadre(vill),
            case=case,
            step="deliberate",
            on=d,
            data={"attendance": 13, "votes_for": 12, "votes_against": 0},
        )
        d += dt.timedelta(days=5)
        cases.case_step_complete(actor=cadre(vill), case=case, step="publicize", on=d)
        d = clock.add_working_days(d, 1)
        cases.case_step_complete(actor=township(vill), case=case, step="township", on=d)
        d = clock.add_working_days(d, 1)
        case = cases.case_step_complete(actor=reviewer, case=case, step="county", on=d)
        if case.status == CaseStatus.APPROVED:
            obj = case.monitoring_object
            rep.enrolled_by_category[obj.category] += 1
            assistance.assignment_set(
                actor=admin, household=obj.household, user=township(vill), kind="helper", on=d
            )
            labour = obj.household.persons.filter(
                is_member=True, labour_skill__in=["技能劳动力", "普通劳动力"]
            ).exists()
            for name in (["就业"] if labour else []) + ["医疗救助/医保补贴"]:
                if attempt(
                    assistance.measure_add,
                    actor=admin,
                    monitoring_object=obj,
                    name=name,
                    start_on=d,
                    status="in_progress",
                ):
                    rep.measures += 1
    # 5. 帮扶: objects without a plan get one fitting their first risk type; measures running for three
    #    months or more are recorded as done (落实) by the helper
    fit_cache: dict[str, dict] = {}
    for obj in MonitoringObject.objects.filter(village__code__startswith=county, status=ObjectStatus.ACTIVE):
        if not obj.measures.exists():
            county12 = obj.household.village_id[:6].ljust(12, "0")
            fit = fit_cache.setdefault(
                county12, param_value("catalogue.risk_measure_fit", region_code=county12, year=first.year)
            )
            names = (fit.get(obj.risk_types[0]) if obj.risk_types else None) or ["其他"]
            if attempt(
                assistance.measure_add,
                actor=admin,
                monitoring_object=obj,
                name=names[0],
                start_on=first,
                status="in_progress",
            ):
                rep.measures += 1
        for m in obj.measures.filter(status="in_progress", start_on__lte=clock.add_months(first, -3)):
            if attempt(assistance.measure_update, actor=admin, measure=m, status="done", outcome="已落实"):
                rep.measures_done += 1
    # 6. 风险消除: objects whose guards hold at month end
    end = _workday(clock.add_months(first, 1) - dt.timedelta(days=10))
    for obj in MonitoringObject.objects.filter(village__code__startswith=county, status=ObjectStatus.ACTIVE):
        if clock.months_between(obj.identified_on, end) < 6:
            continue
        vill = obj.household.village_id
        case = attempt(elimination.elimination_propose, actor=cadre(vill), monitoring_object=obj, on=end)
        if case is None:
            continue
        rep.eliminations_proposed += 1
        if _review_chain(attempt, case, end, cadre(vill), township(vill), reviewer):
            rep.eliminated += 1
    rep.overdue = len(
        selectors.overdue_items(actor=admin, on=clock.add_months(first, 1) - dt.timedelta(days=1))
    )
    return rep
