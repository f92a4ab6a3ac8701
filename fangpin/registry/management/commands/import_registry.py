"""fangpin import_registry FILE [--income-year Y] [--on YYYY-MM-DD] [--as USERNAME] [--dry-run] [--now]

Imports a national 监测对象信息 export (xlsx or CSV). All or nothing: on any bad row nothing is written,
the rejects are printed in Chinese (and written to an xlsx reject report) and the command exits 1.
Without --now the batch is queued for the Huey worker (a dry run always runs at once).
Headers no alias knows stop the import with the mapping question (printed with a preview of the first
rows); answer it with --map 文件表头=列名 (repeatable; 列名 = a national header, or 不导入), saved for
the next file with the same headers (or use ``fangpin import_mapping``).
--kind living_conditions|village_profile (or the default --kind auto, which sniffs the header) imports the
（乡村建设）户信息 or （自定义）行政村信息 file instead, always in this process; its unknown headers ask the
same mapping question (answered with --map, saved per file kind and header layout).
--on is the business date the file is checked and recorded on (default today): a date after it is in the
future, moves are dated on it, and the income year defaults to the year before it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.models import ImportStatus
from fangpin.registry.services.imports import import_batch_create, import_batch_run

from ._actor import command_actor

MAX_PRINTED = 50


def _sniff(path: Path) -> str:
    """The file kind from the national file name, else from the header rows (``io.kinds.file_kind``)."""
    from fangpin.registry.io.kinds import file_kind

    return file_kind(path.read_bytes(), path.name)


def business_date(value: str | None) -> dt.date:
    """``--on YYYY-MM-DD`` (the command is the edge: without it, today)."""
    if not value:
        return clock.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--on “{value}”不是有效日期，应为YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "导入国家防返贫监测信息系统导出的监测对象信息（xlsx/csv）"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--income-year", type=int, default=None, help="收入列所属年度（默认业务日期的上一年）"
        )
        parser.add_argument(
            "--on",
            default=None,
            help="业务日期 YYYY-MM-DD：按该日校验（晚于该日的日期为未来日期）、记迁移，默认今天",
        )
        parser.add_argument(
            "--as", dest="username", default=None, help="以该用户身份导入（默认第一个县级管理员）"
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--now", action="store_true", help="在本进程内立即执行（默认交后台任务）")
        parser.add_argument(
            "--map",
            dest="pairs",
            action="append",
            default=[],
            help="列对应：文件表头=列名（如 家庭编号=户编号，本县备注=不导入；可多次，保存后下次沿用）",
        )
        parser.add_argument(
            "--kind",
            default="auto",
            choices=["auto", "registry", "living_conditions", "village_profile"],
            help="文件类型：auto=按表头识别（默认），registry=监测对象信息，living_conditions=（乡村建设）户信息，village_profile=（自定义）行政村信息",
        )

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = command_actor(opts["username"])
        on = business_date(opts["on"])
        kind = opts["kind"]
        if kind == "auto":
            kind = _sniff(path)
        if opts["pairs"]:
            from fangpin.registry.services.import_mapping import import_mapping_save

            try:
                m = import_mapping_save(
                    actor=actor,
                    file_name=path.name,
                    data=path.read_bytes(),
                    answers=parse_pairs(opts["pairs"]),
                    on=on,
                    kind=kind,
                )
            except DomainError as e:
                raise CommandError(e.message) from None
            self.stdout.write(f"已保存列对应 v{m.version}（下次同样表头的文件沿用）")
        if kind != "registry":
            from fangpin.registry.services.kind_imports import kind_import

            try:
                batch = kind_import(
                    actor=actor,
                    kind=kind,
                    file_name=path.name,
                    data=path.read_bytes(),
                    on=on,
                    dry_run=opts["dry_run"],
                )
            except DomainError as e:
                raise CommandError(e.message) from None
            if batch.status == ImportStatus.MAPPING:
                self._ask(batch, on)
            self._report_kind(batch)
            return
        try:
            batch = import_batch_create(
                actor=actor,
                file_name=path.name,
                data=path.read_bytes(),
                on=on,
                income_year=opts["income_year"],
                dry_run=opts["dry_run"],
            )
            if not (opts["now"] or opts["dry_run"]):
                from fangpin.registry.tasks import import_batch_task

                import_batch_task(batch.pk, actor.pk, on.isoformat())
                batch.refresh_from_db()
                if batch.status == ImportStatus.PENDING:
                    self.stdout.write(
                        f"导入批次#{batch.pk}已排队，由后台任务处理（查看状态：管理后台 导入批次）"
                    )
                    return
            else:
                batch = import_batch_run(batch_id=batch.pk, actor=actor, on=on)
        except DomainError as e:
            raise CommandError(e.message) from None
        self._report(batch, on)

    def _report_kind(self, batch) -> None:
        from fangpin.registry.io.kinds import KIND_LABELS

        out = self.stdout.write
        out(
            f"导入批次#{batch.pk} {KIND_LABELS.get(batch.kind, batch.kind)} {batch.file_name} 状态：{batch.get_status_display()}"
        )
        self._print_rejects(batch)
        d = batch.details or {}
        for header, spellings in (d.get("mapped") or {}).items():
            out(f"已按标准值识别【{header}】：{'、'.join(f'{k}（{n}处）' for k, n in spellings.items())}")
        for line in d.get("not_stored") or []:
            out(f"未单独保存的列 {line}")
        if d.get("columns_answered_not_stored"):
            out(f"按已保存的列对应不导入的列：{'、'.join(d['columns_answered_not_stored'][:20])}")
        if d.get("duplicate_columns"):
            out(f"重复的列（只读取第一列）：{'、'.join(d['duplicate_columns'])}")
        if d.get("total_rows_skipped"):
            out(f"合计行（非数据，已跳过）：第{'、'.join(map(str, d['total_rows_skipped']))}行")
        if d.get("differs_from_household"):
            out(
                "与户档案不一致（已按本文件保存为生产生活条件，户档案未改）："
                + "、".join(f"{k}{n}户" for k, n in d["differs_from_household"].items())
            )
        if d.get("household_type_differs"):
            out(f"户类型与户档案不一致：{d['household_type_differs']}户（以户档案为准）")
        out(batch.message)

    @staticmethod
    def _report_hint(batch) -> str:
        """The reject report is kept encrypted: how to download it (decrypted, audited)."""
        return (
            f"错误报告（加密保存）：fangpin import_report {batch.pk} 错误报告.xlsx "
            f"--as {batch.created_by.username} 下载"
        )

    def _print_rejects(self, batch) -> None:
        if batch.status != ImportStatus.FAILED:
            return
        for r in batch.rejects.all()[:MAX_PRINTED]:
            where = f"第{r.row}行" if r.row else ""
            col = f"【{r.column}】" if r.column else ""
            val = f"值“{r.value}”：" if r.value and r.value not in r.reason else ""
            self.stderr.write(f"{where}{col}{val}{r.reason}")
        total = batch.rejects.count()
        if total > MAX_PRINTED:
            self.stderr.write(f"……另有{total - MAX_PRINTED}条错误，见错误报告")
        if batch.error_report_path:
            self.stderr.write(self._report_hint(batch))
        raise CommandError(batch.message or "导入未通过")

    def _ask(self, batch, on: dt.date) -> None:
        """A batch stopped at the mapping question: print it (with the preview) and exit 1."""
        from fangpin.registry.services.import_mapping import mapping_question

        data = Path(batch.upload_path).read_bytes()
        q = mapping_question(
            actor=batch.created_by, file_name=batch.file_name, data=data, on=on, kind=batch.kind
        )
        print_question(self, q)
        raise CommandError(
            f"导入批次#{batch.pk}：{batch.message}。用 --map 文件表头=列名 回答后重新运行"
            "（或 fangpin import_mapping 文件 --set 文件表头=列名）"
        )

    def _report(self, batch, on: dt.date) -> None:
        out = self.stdout.write
        if batch.status == ImportStatus.MAPPING:
            self._ask(batch, on)
        out(
            f"导入批次#{batch.pk} {batch.file_name} sha256={batch.sha256[:16]}… 状态：{batch.get_status_display()}"
        )
        out(
            f"表头行：第{batch.header_row or '-'}行  数据行：{batch.rows}  户：{batch.households}  人：{batch.persons}"
        )
        if batch.status == ImportStatus.FAILED:
            rejects = list(batch.rejects.all()[:MAX_PRINTED])
            for r in rejects:
                where = f"第{r.row}行" if r.row else ""
                col = f"【{r.column}】" if r.column else ""
                val = f"值“{r.value}”：" if r.value and r.value not in r.reason else ""
                self.stderr.write(f"{where}{col}{val}{r.reason}")
            total = batch.rejects.count()
            if total > MAX_PRINTED:
                self.stderr.write(f"……另有{total - MAX_PRINTED}条错误，见错误报告")
            if batch.error_report_path:
                self.stderr.write(self._report_hint(batch))
            raise CommandError(batch.message or "导入未通过")
        d = batch.details or {}
        hc, ic = d.get("households_counts", {}), d.get("income_counts", {})
        out(f"人：新增{batch.created} 更新{batch.updated} 未变{batch.unchanged}")
        out(f"户：新增{hc.get('created', 0)} 更新{hc.get('updated', 0)} 未变{hc.get('unchanged', 0)}")
        out(
            f"收入（{batch.income_year}年）：新增{ic.get('created', 0)} 更新{ic.get('updated', 0)} 未变{ic.get('unchanged', 0)}"
        )
        mon = d.get("monitoring") or {}
        if batch.monitoring_rows:
            state = "已交监测模块纳入" if mon.get("handed_over") else "已保存在批次中，待监测模块纳入"
            out(f"监测对象：{len(batch.monitoring_rows)}户（{state}）")
        meas = d.get("measures") or {}
        if meas.get("created") or meas.get("unchanged"):
            out(
                f"帮扶措施：新增{meas.get('created', 0)}条 已有{meas.get('unchanged', 0)}条（已记入监测对象）"
            )
        for m in d.get("member_moves") or []:
            out(f"成员{m['how']}：第{m['row']}行 户{m['from']}→户{m['to']}（已记人口变更）")
        mappings = d.get("value_mappings") or {}
        if mappings:
            out("已按国家标准写法转换的值（列：原写法 → 标准值（格数））：")
            for header, spelled in mappings.items():
                out(f"  {header}：" + "；".join(f"{k}（{n}格）" for k, n in spelled.items()))
        for ns in d.get("columns_not_stored") or []:
            out(f"未作为字段保存的列：{ns['column']}（{ns['reason']}）")
        if d.get("warnings"):
            out(f"提示{d['warnings']}条，例如：{'；'.join(d.get('warning_samples', [])[:3])}")
        out(batch.message)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        if "=" not in p:
            raise CommandError(f"“{p}”格式错误，应为 文件表头=列名")
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def print_question(cmd: BaseCommand, q: dict) -> None:
    """The mapping question and the first rows as parsed with the proposal, as text."""
    out = cmd.stdout.write
    if q.get("saved"):
        out(f"已保存的列对应 v{q['saved']['version']}：{q['saved']['columns']}")
    if not q["needed"]:
        out(f"表头（第{q['header_row']}行）均已识别，无需确认列对应")
    for u in q["unknown"]:
        hint = {"proposal": f"建议：{u['label']}（请核对）", "answer": f"回答：{u['label']}"}.get(
            u["source"], "无相近列名，请指定"
        )
        out(f"  未识别的表头“{u['header']}” → {hint}")
    if q["missing_required"]:
        out(f"缺少必需列：{'、'.join(q['missing_required'])}（请指出文件中哪个表头是它）")
    out(f"按{'建议' if q['needed'] else '当前'}对应读取的前{len(q['rows'])}行：")
    out("  " + " | ".join(f"{h['header']}→{h['column']}" for h in q["headers"]))
    for r in q["rows"]:
        cells = [
            f"{c['text']}（{c['error']}）"
            if c["error"]
            else f"{c['text']}（{c['note']}）"
            if c.get("note")
            else c["value"]
            for c in r["cells"]
        ]
        out(f"  第{r['row']}行：" + " | ".join(cells))
