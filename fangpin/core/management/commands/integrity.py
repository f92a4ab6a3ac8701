"""fangpin integrity verify|seal: the integrity seals of decision records (INT-01, ``core.integrity``).

- ``verify [--model M] [--format text|json]``: recomputes the seal of every identification and elimination
  outcome, approval step, income record and assistance measure; names each row that fails (type, id and the
  household number in Chinese); exits non-zero when any does. The run is audited (``core.integrity_verify``),
  and ``securitycheck --mlps3`` reports the latest one.
  ``--checkpoint`` (the nightly job does it): after a clean run, the ids not anchored yet go into a new signed
  line of the checkpoint file outside the database, so a deleted record is named later
  (``core.seal_checkpoint``).
- ``seal [--model M] [--include-unsealed]``: after a key rotation, re-seals under the current key the rows
  that verify under an older listed key; a row that fails under every key is refused and named, never
  re-sealed. Audited (``core.integrity_seal``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.actors import system_actor
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.core.integrity import Tampered, integrity_reseal, model_by_name
from fangpin.core.tasks import run_integrity_verify

AUDIT_LIST = 50  # rows named in the audit event (the report lists all)


def _rows(bad: list[Tampered]) -> list[list[Any]]:
    return [[t.model, t.pk] for t in bad[:AUDIT_LIST]]


class Command(BaseCommand):
    help = "决策记录完整性校验：verify 逐条核对识别、消除、审批、收入、帮扶记录的校验码；seal 换密钥后重新加校验码"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="逐条核对校验码，列出被改动的记录（有则返回非零）")
        v.add_argument(
            "--model", action="append", help="只核对某类记录，如 registry.IncomeRecord 或 收入记录"
        )
        v.add_argument("--format", choices=["text", "json"], default="text")
        v.add_argument(
            "--checkpoint",
            action="store_true",
            help="全部一致时把尚未登记的记录编号写入完整性检查点文件（之后删除的记录可被发现）",
        )
        s = sub.add_parser("seal", help="密钥轮换后用当前密钥重新加校验码（校验不通过的记录拒绝处理）")
        s.add_argument("--model", action="append")
        s.add_argument(
            "--include-unsealed",
            action="store_true",
            help="同时为尚无校验码的记录加校验码（须确认其内容无误）",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            models_ = [model_by_name(m) for m in o.get("model") or []] or None
        except DomainError as e:
            raise CommandError(e.message) from None
        if o["action"] == "verify":
            self._verify(models_, o["format"], o["checkpoint"])
        else:
            self._seal(models_, o["include_unsealed"])

    def _verify(self, models_, fmt: str, checkpoint: bool) -> None:
        if checkpoint and models_:
            raise CommandError("--checkpoint 须核对全部记录类型，不能与 --model 同用")
        res = run_integrity_verify(models_=models_, checkpoint=checkpoint)
        total = sum(res.checked.values())
        if fmt == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "ok": res.ok,
                        "checked": res.checked,
                        "tampered": [t.as_dict() for t in res.tampered],
                        "checkpoint": {
                            "lines": res.checkpoint_lines,
                            "problems": res.checkpoint_problems,
                            "written": res.checkpoint_written,
                        },
                    },  # fmt: skip
                    ensure_ascii=False,
                    default=str,
                )
            )
        else:
            for t in res.tampered:
                what = "被删除" if t.reason.startswith("记录已被删除") else "被改动"
                self.stdout.write(f"{what}：{t.name}（{t.model} #{t.pk}）{t.label}：{t.reason}")
            for p in res.checkpoint_problems:
                self.stdout.write(f"检查点：{p}")
            per = "，".join(f"{k} {n}条" for k, n in res.checked.items())
            self.stdout.write(
                f"已核对 {total} 条决策记录（{per}）："
                + ("全部一致" if res.ok else f"{len(res.tampered) + len(res.checkpoint_problems)} 项不通过")
                + f"；完整性检查点 {res.checkpoint_lines} 行"
                + ("，已写入新的一行" if res.checkpoint_written else "")
            )
        if not res.ok:
            raise CommandError(
                f"完整性校验不通过：{len(res.tampered)} 条记录在应用之外被改动、删除或缺少校验码"
                + (f"，检查点 {len(res.checkpoint_problems)} 处问题" if res.checkpoint_problems else "")
            )

    def _seal(self, models_, include_unsealed: bool) -> None:
        res = integrity_reseal(models_, include_unsealed=include_unsealed)
        n = sum(res.resealed.values())
        audit_record(actor=system_actor("integrity_seal"), event_type="core.integrity_seal",
                     result="ok" if not res.refused else "refused",
                     reason="" if not res.refused else f"{len(res.refused)}条记录校验不通过，未重新加校验码",
                     data={"resealed": res.resealed, "include_unsealed": include_unsealed,
                           "refused": _rows(res.refused)})  # fmt: skip
        for t in res.refused:
            self.stdout.write(f"拒绝处理：{t.name}（{t.model} #{t.pk}）{t.label}：{t.reason}")
        self.stdout.write(f"已用当前密钥重新加校验码 {n} 条")
        if res.refused:
            raise CommandError(f"{len(res.refused)} 条记录校验不通过，未重新加校验码（请先核查）")
