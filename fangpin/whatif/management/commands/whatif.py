"""fangpin whatif --set KEY=VALUE [...] --as USER [--on DATE] [--year Y] [--list MEASURE] [--township CODE]
[--excel FILE] [--background] | fangpin whatif --recompute PARAM_ID --as USER [--on DATE]: what a parameter
change would do, per township, changing nothing."""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.policy.models import Parameter


def _pct(x):
    return "-" if x is None else f"{x:.1%}"


class Command(BaseCommand):
    help = (
        "政策模拟测算（不改变任何数据）。例：fangpin whatif --set monitoring_line=+10% --as county_admin；"
        "参数修改后：fangpin whatif --recompute 参数ID --as county_admin"
    )

    def add_arguments(self, parser):
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                            help="monitoring_line=+10%% / 8000；min_months、stable_months、min_measures、"
                                 "gradual_exit_months、window_months、income.include_insurance_payout；筛查阈值如 "
                                 "screening.medical.exited_annual_oop=4000（别名 medical_oop）")  # fmt: skip
        parser.add_argument("--recompute", type=int, help="参数版本ID：该版本所在年度修改前后的判定变化")
        parser.add_argument("--as", dest="actor", required=True)
        parser.add_argument("--on", help="业务日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--year", type=int, help="模拟参数自哪一年起适用（默认业务日期所在年）")
        parser.add_argument("--screening", action="store_true",
                            help="同时按现行与模拟参数运行部门筛查规则（设置了筛查阈值时自动运行）")  # fmt: skip
        parser.add_argument("--list", choices=["changed", "flagged", "enter", "leave", "eligible", "missing",
                                               "screened"],
                            help="列出户名单（默认只列判定变化的户的数量）")  # fmt: skip
        parser.add_argument("--township", help="名单限于该乡镇（12位代码）")
        parser.add_argument("--excel", help="导出 Excel（脱敏）到该文件")
        parser.add_argument("--background", action="store_true", help="后台运行完整测算（结果写入文件）")
        parser.add_argument("--build-snapshot", action="store_true",
                            help="生成（或确认）该业务日期的测算数据快照；与 --background 一起则排队后台生成")  # fmt: skip

    def handle(self, *args, **o):
        from fangpin.whatif.excel import whatif_xlsx
        from fangpin.whatif.services import recompute_default_on, recompute_offer, whatif_run

        actor = User.objects.filter(username=o["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{o['actor']}”不存在或已停用")
        try:
            on = dt.date.fromisoformat(o["on"]) if o["on"] else clock.today()
        except ValueError:
            raise CommandError(f"业务日期“{o['on']}”格式错误，应为 YYYY-MM-DD") from None
        settings = {}
        for s in o["set"]:
            if "=" not in s:
                raise CommandError(f"“{s}”应写成 参数=值，如 monitoring_line=+10%")
            k, v = s.split("=", 1)
            settings[k.strip()] = v.strip()
        try:
            if o["build_snapshot"]:
                if o["background"]:
                    from fangpin.whatif.tasks import whatif_snapshot_task

                    whatif_snapshot_task(actor.pk, on.isoformat())
                    self.stdout.write(f"已排队后台生成 {on} 的测算数据快照")
                    return
                from fangpin.whatif.store import snapshot_maintained, snapshot_path

                snap = snapshot_maintained(actor=actor, on=on)
                self.stdout.write(f"测算数据快照 {on}：{len(snap.households)}户，生成于 {snap.built_at}，"
                                  f"户档案版本 {snap.stamp or '（未保存：仅本人帮扶户）'}，"
                                  f"文件 {snapshot_path(snap.region_prefix, on, snap.stamp) if snap.stamp else '—'}")  # fmt: skip
                return
            if o["background"]:
                from fangpin.whatif.tasks import whatif_full_run_task

                token = secrets.token_hex(8)
                whatif_full_run_task(actor.pk, on.isoformat(), settings, o["year"], token,
                                     screening=True if o["screening"] else None)  # fmt: skip
                self.stdout.write(f"已排队后台测算，结果编号 {token}（var/files/whatif/{token}/）")
                return
            if o["recompute"]:
                p = Parameter.objects.filter(pk=o["recompute"]).first()
                if p is None:
                    raise CommandError(f"没有ID为{o['recompute']}的参数版本")
                when = (
                    dt.date.fromisoformat(o["on"]) if o["on"] else recompute_default_on(p.year, clock.today())
                )
                c = recompute_offer(actor=actor, parameter=p, on=when)
            else:
                from fangpin.whatif.store import snapshot_maintained

                c = whatif_run(actor=actor, on=on, settings=settings, year=o["year"],
                               screening=True if o["screening"] else None,
                               snapshot=snapshot_maintained(actor=actor, on=on))  # fmt: skip
        except DomainError as e:
            raise CommandError(e.message) from None
        w = self.stdout.write
        MEASURES = c.measures  # noqa: N806
        what = "；".join(
            f"{d['name']}={d['value']}（{d['region'] or '全国'}，{d['year']}年起）"
            for d in c.scenario.describe()
        )
        snap = c.snapshot
        w(
            f"数据快照：业务日期 {snap['on']}，生成于 {snap['built_at'] or '本次'}（户档案版本 {snap['stamp'] or '即时导出'}）"
        )
        w(f"政策模拟测算 {c.on}：{c.baseline.label} → {what or c.scenario.label}（仅测算，未改变任何数据）")
        w(
            f"{'乡镇':<12}"
            + "".join(f"{MEASURES[m][:6]:>16}" for m in MEASURES)
            + f"{'覆盖率':>12}{'漏出率':>12}"
        )
        for r in c.rows:
            b, s = r["base"], r["scen"]
            cells = "".join(f"{b[m]['households']:>7}→{s[m]['households']:<8}" for m in MEASURES)
            w(f"{r['name'][:10]:<12}{cells}{_pct(b['coverage']):>6}→{_pct(s['coverage']):<6}"
              f"{_pct(b['leakage']):>6}→{_pct(s['leakage']):<6}")  # fmt: skip
        t = c.total
        w(
            "人数（合计）："
            + "，".join(
                f"{MEASURES[m]} {t['base'][m]['persons']}→{t['scen'][m]['persons']}" for m in MEASURES
            )
        )
        if c.screening is not None:
            sc = c.screening
            w(f"部门筛查：{sc['month'][:4]}年1月至{sc['month']}已上传的{len(sc['batches'])}个批次"
              + "".join(f"；{k} {sc['thresholds']['b|'].get(k)}→{sc['thresholds']['s|'].get(k)}"
                        for k in sc["thresholds"]["s|"] if sc["thresholds"]["b|"].get(k) != sc["thresholds"]["s|"].get(k)))  # fmt: skip
        w(f"判定变化的户：{len(c.changed)}")
        if o["list"]:
            rows = c.changed if o["list"] == "changed" else c.households(o["list"], township=o["township"])
            if o["list"] == "changed" and o["township"]:
                rows = [r for r in rows if r["township_id"] == o["township"]]
            for r in rows:
                extra = (
                    f"  {r['before']} → {r['after']}"
                    if "before" in r
                    else f"  人均{r['per_capita']}  {r['category']}"
                )
                w(f"{r['household_no']}  {r['head']}  {r['members']}人{extra}")
        if o["excel"]:
            from fangpin.audit.record import audit_record

            with open(o["excel"], "wb") as fh:
                fh.write(whatif_xlsx(c))
            audit_record(actor=actor, event_type="whatif.export", region_code=c.region_prefix,
                         data={"read": True, "on": c.on.isoformat(), "rows": len(c.changed), "masked": True})  # fmt: skip
            w(f"已导出 {o['excel']}（脱敏）")
        w(f"用时：{c.timings}")
