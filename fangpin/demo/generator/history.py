"""A village's monthly history since the baseline, in which risk has causes.

For every household of a village, month by month from the baseline (as_of − 5 years, January) to the
month before as_of, with numpy (one array per cause, households × months):

- **causes**, each with a monthly probability that depends on the household's traits: a hospital stay
  (more likely with a chronic or serious illness, elders, a disability; 个人自付 log-normal), a migrant
  worker losing work and coming home (more likely in 2022), a flood or hail in the village (the July
  2021 北方 floods hit many villages, then rarer summer events), a student starting 高中/中职/大学 (the
  September of the year they started, from their school stage at as_of; the yearly cost of each stage
  is the generator's setting ``history.school_yearly_cost`` in ``demo/data/generator.json``, drawn
  within ``school_cost_spread``, and weighs 1.5 the first year, 0.6 the later ones), a disability certificate
  issued (for part of the members disabled at as_of), a death in the household (the generator's own
  deaths since the baseline);
- **a fall**: each cause adds to a shock stock (relative to the household's yearly income at the
  line, decaying 15 % a month); the monthly probability of falling rises with that stock, with a
  thin income buffer, no full labour and many dependants, plus a household random effect — and a
  small probability with no visible cause at all;
- **finding the fall**: a lead in one of the months after the fall (sooner when a department sees the
  cause: 医保 settlements, 失业登记), never if nobody finds it within six months (the fall was
  temporary); verification confirms most leads (a month later the household is enrolled) and rejects
  the rest; a few leads on households that did not fall are rejected too.

Only the first entry of a household counts (the registry keeps one monitoring object per household).
一般农户 are registered *because* they entered: their entry month is drawn in proportion to their
monthly fall probability (so it follows their causes too).

The traces are what the real system would see, each with the day it became known (``known_on``):
department events (``events``: kind, person, month, amount) and the leads (``leads``). The registry
snapshot itself (health, disability, work at as_of) comes from the village generator; a model may learn
from the traces and the traits as they were known at a month, never from the fall itself. A trait the
snapshot holds that was not so all along carries its earlier value and the day it changed
(``changed_since``: a student's 学籍 before 高中 started, an illness first recorded at enrolment).

Deterministic: the stream is ``numpy.random.default_rng`` seeded from (seed, village code).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fangpin.core.clock import add_months

from .params import GenParams

# event kinds (the department that would push them)
HOSPITAL = "hospital"  # 医保: 住院结算, amount = 个人自付
JOB_LOSS = "job_loss"  # 人社: 失业登记 (only part of the job losses are registered)
DISASTER = "disaster"  # 应急/民政: 灾情报告, amount = 损失
SCHOOL = "school"  # 教育: 学籍 (高中/中职/大学 enrolment), amount = yearly cost
DISABILITY = "disability"  # 残联: 残疾人证核发
DEATH = "death"  # 户籍: 死亡注销
# 务工月监测 (the monthly migrant-work table of every 脱贫劳动力): a spell of 外出务工 ended (结束时间) —
# a trace, not a cause: most job losses leave one, and so do job changes and seasonal returns that are
# no loss at all (false alarms); it adds nothing to the shock stock
WORK_END = "work_end"
EVENT_KINDS = (HOSPITAL, JOB_LOSS, DISASTER, SCHOOL, DISABILITY, DEATH, WORK_END)
# days after the end of the event's month until the department's push reaches the county
KNOWN_LAG_DAYS = {
    HOSPITAL: 20,
    JOB_LOSS: 20,
    DISASTER: 10,
    SCHOOL: 45,
    DISABILITY: 30,
    DEATH: 30,
    WORK_END: 20,
}
# cause → risk type of the monitoring object it leads to
CAUSE_RISK = {
    HOSPITAL: "因病",
    JOB_LOSS: "因务工就业不稳",
    DISASTER: "因自然灾害",
    SCHOOL: "因学",
    DISABILITY: "因残",
    DEATH: "缺劳动力",
}
ADV_STUDY = ("普通高中", "中职", "高职高专", "本科")
MIGRANT = ("省外务工", "省内县外务工")
FULL_LABOUR = ("技能劳动力", "普通劳动力")
DETECT_WITHIN = 6  # months: a fall nobody finds in this time was temporary
CONFIRM_SHARE = 0.85
# ``True`` (benches only, ``bench/risk_ceiling.py``): every ``VillageHistory`` keeps the hidden state of its
# households (``hidden``: the fall's hazard terms, the shocks by cause, …) to compute what a forecast
# knowing them could reach; it draws nothing and changes no output
KEEP_HIDDEN = False


@dataclass
class HouseholdHistory:
    fall_month: int | None = None  # index into months
    lead_month: int | None = None
    entry_month: int | None = None  # enrolment (identified_on's month), None if never entered
    cause: str = ""  # kind of the strongest recent cause at the fall, "" if none visible


@dataclass
class VillageHistory:
    months: list[dt.date]  # first day of each simulated month
    households: dict[str, HouseholdHistory] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)
    buffer: dict[str, float] = field(default_factory=dict)  # household → income buffer (× line)
    hidden: dict[str, Any] | None = None  # with ``KEEP_HIDDEN`` only: the households' hidden state


def history_months(p: GenParams) -> list[dt.date]:
    """The first day of each month from the baseline to the month before as_of."""
    return list(_months(p.baseline, p.as_of.replace(day=1)))


@functools.lru_cache(maxsize=64)
def _months(start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    out, m = [], start
    while m < end:
        out.append(m)
        m = add_months(m, 1)
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _calendar(
    start: dt.date, end: dt.date, lines: tuple[tuple[int, float], ...]
) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], int], np.ndarray]:
    """Per simulated month: its year, its month of the year, its index by (year, month), the year's
    monitoring line (the latest line for a year without one). Read-only: shared by every village."""
    months = _months(start, end)
    by_year = dict(lines)
    latest = max(by_year.values())
    years = np.array([m.year for m in months])
    out = (years, np.array([m.month for m in months]), {(m.year, m.month): i for i, m in enumerate(months)})
    yearly_line = np.array([by_year.get(y, latest) for y in years.tolist()])
    for a in (out[0], out[1], yearly_line):
        a.flags.writeable = False
    return (*out, yearly_line)


@functools.lru_cache(maxsize=64)
def _decay(months: int, rate: float) -> np.ndarray:
    """``D[k, m] = rate ** (m - k)`` for k ≤ m, else 0: ``shock @ D`` is the stock of shocks decaying by
    ``rate`` a month (the recurrence stock[m] = stock[m-1] × rate + shock[m], for all months at once)."""
    k = np.arange(months)
    e = k[None, :] - k[:, None]
    return np.where(e >= 0, rate ** np.maximum(e, 0), 0.0)


def _rng(seed: int, code: str, stream: str = "fangpin-history") -> np.random.Generator:
    h = hashlib.blake2b(f"{stream}:{seed}:{code}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(h, "little"))


@functools.lru_cache(maxsize=4096)
def known_on(kind: str, month: dt.date) -> dt.date:
    """The day an event of ``month`` reaches the county (the department's monthly push)."""
    return add_months(month, 1) + dt.timedelta(days=KNOWN_LAG_DAYS[kind] - 1)


def changed_since(x: dict[str, Any], before: dict[str, Any], on: dt.date) -> None:
    """Record that the person's fields in ``before`` took their current values on ``on`` (they had the
    ``before`` values until then): ``x["_before"]`` field → earlier value, ``x["_since"]`` field → day.
    The snapshot stays what it is at as_of; readers of history (``risk.facts``) use these."""
    for k, v in before.items():
        if x[k] != v and k not in x.setdefault("_since", {}):
            x.setdefault("_before", {})[k] = v
            x["_since"][k] = on


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def simulate_village(
    seed: int,
    code: str,
    households: list[dict[str, Any]],
    members_of: dict[str, list[dict[str, Any]]],
    p: GenParams,
) -> VillageHistory:
    """The history of one village's households (see the module doc). ``members_of``: household_no →
    its person dicts (current members and those who left, with ``_left_on``/``death_date``)."""
    rng = _rng(seed, code)
    months = history_months(p)
    M, n = len(months), len(households)
    out = VillageHistory(months=months)
    if n == 0 or M == 0:
        return out
    years, mon_of_year, month_index, yearly_line = _calendar(
        p.baseline, p.as_of.replace(day=1), tuple(sorted((y, float(v)) for y, v in p.lines.items()))
    )

    # -- traits (at as_of; the snapshot is what the village generator drew) ----------------------
    cur = [[x for x in members_of[h["household_no"]] if x["is_member"]] for h in households]
    # the members' traits as flat columns, counted per household
    flat = [x for c in cur for x in c]
    owner = np.repeat(np.arange(n), [len(c) for c in cur])

    def count(mask: list[bool]) -> np.ndarray:
        return np.bincount(owner, weights=np.array(mask, dtype=float), minlength=n)

    health = [x["health"] for x in flat]
    oy, omd = p.as_of.year, (p.as_of.month, p.as_of.day)
    ages = [oy - b.year - (omd < (b.month, b.day)) for b in (x["birth_date"] for x in flat)]  # _age, inline
    size = np.maximum(1, np.bincount(owner, minlength=n)).astype(float)
    n_serious = count([h == "患有大病" for h in health])
    n_chronic = count([h == "长期慢性病" for h in health])
    n_disabled = count([h == "残疾" for h in health])
    n_elder = count([a >= 60 for a in ages])
    n_child = count([a < 16 for a in ages])
    n_full = count([x["labour_skill"] in FULL_LABOUR for x in flat])
    n_migrant = count([x["work_status"] in MIGRANT for x in flat])
    dibao = count([x["dibao"] != "未享受" or x["tekun"] != "不享受" for x in flat]) > 0
    land = np.array([float(h["cultivated_land_mu"]) for h in households])
    ordinary = np.array([h["household_type"] != "脱贫户" for h in households])
    dependants = (n_elder + n_child) / size
    # the household's income buffer (yearly per-capita net / line), its own draw: the income plan
    # uses it as the household's base level, so income and risk go together
    buffer = np.exp(rng.normal(np.log(1.9), 0.33, n))
    buffer = np.where(ordinary, np.minimum(buffer, rng.uniform(1.05, 1.35, n)), buffer)
    frailty = rng.normal(0.0, 0.6, n)  # unobserved household random effect

    shock = np.zeros((n, M))

    def _add(kind: str, hi: int, mi: int, amount: float, person: dict[str, Any] | None, s: float) -> None:
        shock[hi, mi] += s
        h = households[hi]
        out.events.append(
            {
                "household_no": h["household_no"],
                "person_no": person["person_no"] if person else "",
                "kind": kind,
                "month": months[mi],
                "known_on": known_on(kind, months[mi]),
                "amount": round(float(amount)),
            }
        )

    # hospital stays
    h_hosp = 0.0015 + 0.004 * n_chronic + 0.012 * n_serious + 0.0015 * n_elder + 0.003 * n_disabled
    hosp = rng.random((n, M)) < h_hosp[:, None]
    amounts = np.exp(rng.normal(np.log(2500), 0.9, (n, M))) * (1 + 1.2 * (n_serious[:, None] > 0))
    for hi, mi in zip(*np.nonzero(hosp), strict=True):
        c = cur[hi]
        sick = [x for x in c if x["health"] in ("患有大病", "长期慢性病", "残疾")] or c
        person = sick[int(rng.integers(len(sick)))] if c else None
        _add(HOSPITAL, hi, mi, amounts[hi, mi], person, amounts[hi, mi] / (yearly_line[mi] * size[hi]) * 2.2)
    shock_hosp = shock.copy() if KEEP_HIDDEN else None
    _medical_push(_rng(seed, code, "fangpin-history-medical"), out.events, ordinary, households, p)

    # migrant work lost (2022 twice as likely); part of them register as unemployed with 人社
    covid = np.where(years == 2022, 2.0, 1.0)
    job = rng.random((n, M)) < (0.005 * n_migrant)[:, None] * covid[None, :]
    registered = rng.random((n, M)) < 0.5
    losses: list[tuple[int, int, dict[str, Any]]] = []
    for hi, mi in zip(*np.nonzero(job), strict=True):
        workers = [x for x in cur[hi] if x["work_status"] in MIGRANT]
        person = workers[int(rng.integers(len(workers)))]
        losses.append((int(hi), int(mi), person))
        s = 1.3 / max(1.0, n_full[hi])
        if registered[hi, mi]:
            _add(JOB_LOSS, hi, mi, 0, person, s)
        else:
            shock[hi, mi] += s  # no 失业登记 (the 务工月监测 below may still record the end of the work)
    _work_ends(_rng(seed, code, "fangpin-history-work"), losses, cur, mon_of_year, p, _add)
    shock_job = shock.copy() if KEEP_HIDDEN else None

    # disasters: villages hit in July 2021 (北方 floods), then summer hail/drought
    village_hit = np.zeros(M, dtype=bool)
    if (2021, 7) in month_index and rng.random() < 0.45:
        village_hit[month_index[(2021, 7)]] = True
    summer = (mon_of_year >= 6) & (mon_of_year <= 8) & (years > 2021)
    village_hit |= summer & (rng.random(M) < 0.015)
    for mi in np.nonzero(village_hit)[0]:
        hit = rng.random(n) < np.clip(0.25 + 0.02 * land, 0, 0.8)
        loss = land * rng.uniform(400, 1100, n)
        for hi in np.nonzero(hit)[0]:
            _add(DISASTER, hi, mi, loss[hi], None, loss[hi] / (yearly_line[mi] * size[hi]) * 1.5)
    shock_chance = shock.copy() if KEEP_HIDDEN else None  # the causes that happen by chance each month

    # students starting 高中/中职/大学 (September of the year the stage started); the yearly cost of
    # each stage is the generator's setting (generator.json: history.school_yearly_cost)
    spread = p.config.history.school_cost_spread
    for hi, c in enumerate(cur):
        for x in c:
            st = x["school_status"]
            if not st.startswith(ADV_STUDY):
                continue
            college = st.startswith(("高职高专", "本科"))
            start_age = 18 if college else 15
            start_year = x["birth_date"].year + start_age + (1 if x["birth_date"].month > 8 else 0)
            # the 学籍 record: in 初中 until the September 高中/中职 started (3 years before college)
            since = dt.date(start_year - (3 if college else 0), 9, 1)
            if since > p.baseline:
                changed_since(x, {"school_status": "初中"}, since)
            for y in range(start_year, p.as_of.year + 1):
                mi = month_index.get((y, 9))
                if mi is None or (y - start_year) >= (4 if college else 3):
                    continue
                cost = p.config.history.school_cost(st) * float(rng.uniform(*spread))
                _add(
                    SCHOOL,
                    hi,
                    mi,
                    cost,
                    x,
                    cost / (yearly_line[mi] * size[hi]) * (1.5 if y == start_year else 0.6),
                )

    # disability certificates issued in the window (about a third of the members disabled at as_of)
    for hi, c in enumerate(cur):
        for x in c:
            if x["health"] == "残疾" and rng.random() < 0.35:
                mi = int(rng.integers(M))
                grade = x["disability_grade"] or 4
                _add(DISABILITY, hi, mi, grade, x, 1.2 if grade <= 2 else 0.5)
                x["_disabled_since"] = months[mi]

    # deaths since the baseline (the generator's own)
    for hi, h in enumerate(households):
        for x in members_of[h["household_no"]]:
            d = x.get("death_date")
            if d and (d.year, d.month) in month_index:
                _add(DEATH, hi, month_index[(d.year, d.month)], 0, x, 0.8)

    # -- the fall --------------------------------------------------------------------------------
    stock = shock @ _decay(M, 0.85)  # each shock decays 15 % a month
    z = (
        -8.9
        + 5.2 * np.log1p(stock)
        - 1.4 * np.log(buffer)[:, None]
        + 0.7 * (n_full == 0)[:, None]
        + 0.8 * dependants[:, None]
        + 0.3 * dibao[:, None]
        + frailty[:, None]
    )
    h_fall = 1.0 / (1.0 + np.exp(-z))
    if KEEP_HIDDEN:
        out.hidden = {
            "household_no": [h["household_no"] for h in households],
            "ordinary": ordinary,
            "z_base": z[:, 0] - 5.2 * np.log1p(stock[:, 0]),  # the hazard's terms other than the stock
            "frailty": frailty,
            "buffer": buffer,
            "shock": shock.copy(),
            "shock_hosp": shock_hosp,
            "shock_job": shock_job - shock_hosp,
            "shock_disaster": shock_chance - shock_job,
            "h_hosp": h_hosp,
            "hosp_amount_factor": 1 + 1.2 * (n_serious > 0),
            "p_job": 0.005 * n_migrant,
            "job_shock": 1.3 / np.maximum(1.0, n_full),
            "hit_share": np.clip(0.25 + 0.02 * land, 0, 0.8),
            "land": land,
            "size": size,
            "yearly_line": yearly_line,
            "summer": summer,
            "hosp_or_job": (hosp | (job & registered)).copy(),
        }
    lo_m = 4  # entries from the baseline + 4 months (as the snapshot's monitoring objects)
    hi_m = M - 2  # … to two months before as_of (the snapshot's last identification month)
    fell = rng.random((n, M)) < h_fall
    p_detect_base = 0.22
    hosp_or_job = hosp | (job & registered)
    # a fall is seen sooner if a department saw a cause in the last 3 months
    recent = np.zeros((n, M), dtype=bool)
    for k in range(3):
        recent[:, k:] |= hosp_or_job[:, : M - k] if k else hosp_or_job
    dept_seen = recent
    lag_draw = rng.random((n, M, DETECT_WITHIN))
    confirm = rng.random((n, M)) < CONFIRM_SHARE
    # ordinary households: condition on entering (they are registered because they did)
    ord_pick = np.full(n, -1)
    for hi in np.nonzero(ordinary)[0]:
        w = h_fall[hi, lo_m:hi_m] + 1e-9
        ord_pick[hi] = lo_m + int(rng.choice(len(w), p=w / w.sum()))
    any_fall = fell.any(axis=1)
    for hi, h in enumerate(households):
        hist = HouseholdHistory()
        if not ordinary[hi] and not any_fall[hi]:
            out.households[h["household_no"]] = hist
            out.buffer[h["household_no"]] = float(buffer[hi])
            continue
        if ordinary[hi]:
            f = int(max(0, ord_pick[hi] - int(rng.integers(0, 3))))
            hist.fall_month, hist.lead_month, hist.entry_month = f, max(f, ord_pick[hi] - 1), ord_pick[hi]
            if hist.lead_month == hist.entry_month:
                hist.lead_month = max(0, hist.entry_month - 1)
        else:
            for f in np.nonzero(fell[hi])[0]:
                pd_ = p_detect_base + (0.35 if dept_seen[hi, f] else 0.0)
                found = np.nonzero(lag_draw[hi, f] < pd_)[0]
                if not len(found):
                    continue  # temporary, never found
                lead = int(f + found[0])
                if lead >= M:
                    break
                entry = lead + 1
                if not confirm[hi, lead]:
                    out.leads.append(_lead(h, months, lead, "rejected"))
                    continue  # the lead was not confirmed (this time)
                if entry < lo_m:
                    continue  # before the window the snapshot covers
                hist.fall_month, hist.lead_month = int(f), lead
                if entry <= hi_m:
                    hist.entry_month = entry
                break
        if hist.fall_month is not None:
            window = shock[hi, max(0, hist.fall_month - 5) : hist.fall_month + 1]
            if window.sum() > 0.05:
                hist.cause = _strongest(out.events, h["household_no"], months, hist.fall_month)
            out.leads.append(
                _lead(h, months, hist.lead_month, "confirmed" if hist.entry_month is not None else "open")
            )
        out.households[h["household_no"]] = hist
        out.buffer[h["household_no"]] = float(buffer[hi])
    # leads on households that did not fall (rejected by verification)
    false_lead = rng.random((n, M)) < 0.0006
    for hi, mi in zip(*np.nonzero(false_lead), strict=True):
        hist = out.households[households[hi]["household_no"]]
        if hist.entry_month is None or mi < hist.lead_month:
            out.leads.append(_lead(households[hi], months, int(mi), "rejected"))
    out.leads.sort(key=lambda x: (x["household_no"], x["opened_on"]))
    return out


def _medical_push(
    rng: np.random.Generator,
    events: list[dict[str, Any]],
    ordinary: np.ndarray,
    households: list[dict[str, Any]],
    p: GenParams,
) -> None:
    """The day each hospital settlement reaches the county when 医保 pushes the settlements of 脱贫人口
    every ``medical_push_every_days`` days (河北阳原: every 10 days for 脱贫人口 and 监测对象, monthly for
    the others; policy-research.md §6): the settlement's day in its month is drawn (uniform), the push
    after its period (days 1–10, 11–20, 21–end for 10) is known the day after the period ends. 一般农户 keep
    the monthly push (``KNOWN_LAG_DAYS``). 0 = the monthly push for everyone (nothing drawn). Its own
    random stream: one draw per hospital event, every other draw of the history is as without it."""
    every = p.config.history.medical_push_every_days
    if not every:
        return
    stays = [e for e in events if e["kind"] == HOSPITAL]
    if not stays:
        return
    u = rng.random(len(stays))
    basic = {h["household_no"] for h, o in zip(households, ordinary, strict=True) if not o}
    for e, x in zip(stays, u, strict=True):
        if e["household_no"] not in basic:
            continue
        start = e["month"]
        days = (add_months(start, 1) - start).days
        day = 1 + int(x * days)
        period_end = min(days, -(-day // every) * every)
        if days - period_end < every // 2:
            period_end = days  # a short last period is pushed with the one before it
        e["known_on"] = start + dt.timedelta(days=period_end)


def _work_ends(
    rng: np.random.Generator,
    losses: list[tuple[int, int, dict[str, Any]]],
    cur: list[list[dict[str, Any]]],
    mon_of_year: np.ndarray,
    p: GenParams,
    add: Any,
) -> None:
    """The 务工月监测's record of spells of migrant work that ended (kind ``work_end``): the village
    updates every 脱贫劳动力's work each month and the table reaches the county with 人社's push. A job
    loss (registered with 人社 or not) is recorded with ``work_end_recorded_share``; besides, every
    migrant's spell ends without a loss (a job change, a seasonal return with work resumed) at
    ``work_end_other_rate`` a month, ×``work_end_new_year_factor`` in January and February (春节). Its own
    random stream: the rest of the history (causes, falls, leads, entries) is drawn as without it."""
    cfg = p.config.history
    rec = rng.random(len(losses)) < cfg.work_end_recorded_share
    for (hi, mi, person), r in zip(losses, rec, strict=True):
        if r:
            add(WORK_END, hi, mi, 0, person, 0.0)
    migrants = [(hi, x) for hi, c in enumerate(cur) for x in c if x["work_status"] in MIGRANT]
    if not migrants:
        return
    rate = np.where(mon_of_year <= 2, cfg.work_end_new_year_factor, 1.0) * cfg.work_end_other_rate
    other = rng.random((len(migrants), len(mon_of_year))) < rate[None, :]
    for k, mi in zip(*np.nonzero(other), strict=True):
        hi, x = migrants[k]
        add(WORK_END, hi, int(mi), 0, x, 0.0)


def _strongest(events: list[dict[str, Any]], hh: str, months: list[dt.date], fall: int) -> str:
    lo = months[max(0, fall - 5)]
    order = {HOSPITAL: 0, JOB_LOSS: 1, DEATH: 2, DISABILITY: 3, DISASTER: 4, SCHOOL: 5}
    hit = [
        e
        for e in events
        if e["household_no"] == hh and lo <= e["month"] <= months[fall] and e["kind"] in order
    ]
    return min((e["kind"] for e in hit), key=order.__getitem__, default="")


def _lead(h: dict[str, Any], months: list[dt.date], mi: int, outcome: str) -> dict[str, Any]:
    opened = months[mi] + dt.timedelta(
        days=int(hashlib.blake2b(h["household_no"].encode(), digest_size=1).digest()[0]) % 25
    )
    return {
        "household_no": h["household_no"],
        "opened_on": opened,
        "outcome": outcome,  # confirmed / rejected / open
        "closed_on": None if outcome == "open" else opened + dt.timedelta(days=20),
    }
