"""The column-mapping question of the national 监测对象信息 import.

A file whose header row has headers no alias knows (a county renamed a column, added its own, typed
brackets or blanks differently than any spelling we know) is never guessed: the import stops at
``ImportStatus.MAPPING`` with one question — for each unknown header, which known national column it is
or "不导入" (not stored), and which required column (户编号/证件号码/姓名) no header names. The question comes
with a proposal (a close spelling of a known header, shown as a suggestion, never applied unasked) and the
first rows as they would be parsed with it. The answer is saved per header layout (``ImportMapping`` by
``io.read.header_signature``), audited, and reused for the next upload with the same headers.

Callers: the 数据导入 screen (``web.views.imports``), ``fangpin import_registry --map`` and
``fangpin import_mapping``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.io.columns import (
    BY_KEY,
    COLUMNS,
    DERIVED,
    HEADER_INDEX,
    REQUIRED_KEYS,
    normalize_header,
)
from fangpin.registry.io.convert import CellError
from fangpin.registry.io.read import (
    HEADER_SCAN_ROWS,
    HeaderMapping,
    Table,
    header_signature,
    read_head,
    table_from_rows,
)
from fangpin.registry.models import ImportBatch, ImportStatus
from fangpin.registry.models.imports import ImportMapping

E_MAPPING = "import_mapping"
NOT_STORED = ""  # the answer "不导入"
_NOT_STORED_WORDS = ("", "不导入", "无", "忽略", "-")
PREVIEW_ROWS = 5


def _target_columns() -> list:
    return [c for c in COLUMNS if c.target != DERIVED]


def column_choices() -> list[tuple[str, str]]:
    """(key, label) of every column an unknown header can be mapped to, national ones first."""
    cols = sorted(_target_columns(), key=lambda c: (not c.national, COLUMNS.index(c)))
    return [(c.key, c.header if c.national else f"{c.header}（本系统扩展列）") for c in cols]


def _answer_key(value: str, header: str) -> str:
    """A column key from an answer given as key, national header or alias; "" for 不导入."""
    v = (value or "").strip()
    if v in _NOT_STORED_WORDS:
        return NOT_STORED
    if v in BY_KEY and BY_KEY[v].target != DERIVED:
        return v
    col = HEADER_INDEX.get(normalize_header(v))
    if col is not None and col.target != DERIVED:
        return col.key
    raise DomainError(
        E_MAPPING, f"表头“{header}”对应的“{value}”不是监测对象信息表的列（可选“不导入”）", field=header
    )


def saved_mappings(rows: list[list[str]]) -> dict[str, HeaderMapping]:
    """Saved answers for the layouts the top rows could be, by header signature: the answer saved for
    exactly these headers, else the fullest answer saved for a layout whose headers this row all has (a
    county added a column: only the new header is asked about)."""
    cands = {header_signature(r): r for r in rows[:HEADER_SCAN_ROWS] if any(r)}
    out = {m.signature: dict(m.columns) for m in ImportMapping.objects.filter(signature__in=list(cands))}
    rest = [sig for sig in cands if sig not in out]
    if rest:
        saved = [
            (m, {normalize_header(h) for h in m.headers if h}) for m in ImportMapping.objects.all()[:500]
        ]
        for sig in rest:
            have = {normalize_header(h) for h in cands[sig] if h}
            fits = [(len(hs), m) for m, hs in saved if hs and hs <= have]
            if fits:
                out[sig] = dict(max(fits, key=lambda x: (x[0], x[1].saved_at))[1].columns)
    return out


def _saved_for_table(table: Table) -> ImportMapping | None:
    return ImportMapping.objects.filter(signature=table.signature).first()


def read_with_saved(data: bytes, file_name: str, overlay: dict[str, str] | None = None) -> Table:
    """The head of the file (header search rows + the preview rows) read with its layout's saved mapping
    (and ``overlay``: answers not saved yet, by file header). Never the whole file: a question about a
    100,000-row export answers at once."""
    head = read_head(data, file_name, HEADER_SCAN_ROWS + PREVIEW_ROWS + 5)
    saved = saved_mappings(head)
    table = table_from_rows(head, saved)
    if overlay:  # applies to whichever layout the file turned out to have
        norm = {normalize_header(h): k for h, k in overlay.items()}
        merged = {**(saved.get(table.signature) or {}), **norm}
        table = table_from_rows(head, {table.signature: merged})
    return table


def _proposal(header: str, taken: set[str]) -> str | None:
    """A known column whose header or alias is spelled close to ``header`` (a suggestion only)."""
    h = normalize_header(header)
    names = [n for n, c in HEADER_INDEX.items() if c.key not in taken and c.target != DERIVED]
    for n in names:  # one contains the other (户编号 ⊂ 家庭户编号), at least two characters
        if len(n) >= 2 and len(h) >= 2 and (n in h or h in n):
            return HEADER_INDEX[n].key
    close = difflib.get_close_matches(h, names, n=1, cutoff=0.6)
    return HEADER_INDEX[close[0]].key if close else None


def _cell(col, text: str, *, ignored: bool = False) -> dict[str, str]:
    if not text:
        return {"text": "", "value": "", "error": ""}
    if col is None:  # 不导入, or not answered yet: the text as read, marked
        return {"text": text, "value": "", "error": "", "note": "不导入" if ignored else "未对应"}
    if col.conv is None:
        return {"text": text, "value": text, "error": ""}
    try:
        v = col.conv(text)
    except CellError as e:
        return {"text": text, "value": "", "error": e.message}
    except Exception:  # noqa: BLE001  (a converter needing context: show the text as read)
        v = text
    if col.kind == "gender":
        from fangpin.registry.io.convert import fmt_gender

        v = fmt_gender(v)
    elif isinstance(v, bool):
        v = "是" if v else "否"
    elif isinstance(v, dt.date):
        v = v.isoformat()
    elif isinstance(v, list | tuple):
        v = "、".join(map(str, v))
    return {"text": text, "value": "" if v is None else str(v), "error": ""}


def mapping_question(*, actor, file_name: str, data: bytes, answers: dict[str, str] | None = None) -> dict:
    """The mapping question for this file (changes nothing): ``needed`` (bool), the unknown headers each
    with its current answer or proposal, the required columns still missing, the first rows parsed with
    the proposed mapping, the saved mapping's version, and the choices."""
    require(actor, Cap.REGISTRY_IMPORT)
    answers = dict(answers or {})
    plain = read_with_saved(data, file_name)
    saved = _saved_for_table(plain)
    known = set(plain.columns)
    unknown = []
    proposed: dict[str, str] = {}
    for h in plain.unknown_headers:
        if h in answers:
            try:
                key = _answer_key(answers[h], h)
            except DomainError:
                key = None
            source = "answer"
        else:
            key = _proposal(h, known | set(proposed.values()))
            source = "proposal" if key else "none"
        if key:
            proposed[h] = key
        elif key == NOT_STORED and source == "answer":
            proposed[h] = NOT_STORED
        unknown.append(
            {
                "header": h,
                "key": key if key is not None else None,
                "label": BY_KEY[key].header if key else ("不导入" if key == NOT_STORED else ""),
                "source": source,
            }
        )
    table = read_with_saved(data, file_name, overlay=proposed) if proposed else plain
    missing = [BY_KEY[k].header for k in table.missing_required]
    by_pos = {j: BY_KEY[k] for k, j in table.columns.items()}
    ignored = set(table.ignored_headers)
    heads = []
    for j, h in enumerate(table.headers):
        if not h:
            continue
        col = by_pos.get(j)
        heads.append(
            {"header": h, "pos": j, "column": col.header if col else ("不导入" if h in ignored else "？")}
        )
    rows = []
    for i in range(min(PREVIEW_ROWS, len(table.rows))):
        r = table.rows[i]
        rows.append(
            {
                "row": table.row_number(i),
                "cells": [
                    _cell(
                        by_pos.get(x["pos"]),
                        r[x["pos"]] if x["pos"] < len(r) else "",
                        ignored=x["column"] == "不导入",
                    )
                    for x in heads
                ],
            }
        )
    return {
        "needed": plain.needs_mapping,
        "header_row": table.header_row,
        "signature": plain.signature,
        "unknown": unknown,
        "missing_required": missing,
        "headers": heads,
        "rows": rows,
        "saved": {"version": saved.version, "columns": saved.columns} if saved else None,
        "choices": column_choices(),
    }


def import_mapping_save(
    *, actor, file_name: str, data: bytes, answers: dict[str, str], on: dt.date | None = None
) -> ImportMapping:
    """Saves the answer for this file's header layout (merged into an earlier answer for it): every unknown
    header must be answered (a column, or "不导入"), no column twice, and the required columns named.
    Audited (``registry.import_mapping_save`` with before/after)."""
    require(actor, Cap.REGISTRY_IMPORT)
    head = read_head(data, file_name, HEADER_SCAN_ROWS + PREVIEW_ROWS + 5)
    plain = read_with_saved(data, file_name)
    inherited = saved_mappings(head).get(plain.signature, {})
    unknown = plain.unknown_headers
    norm_answers = {normalize_header(h): (h, v) for h, v in answers.items()}
    strays = [
        h
        for h, _ in norm_answers.values()
        if normalize_header(h) not in {normalize_header(u) for u in unknown}
    ]
    saved_cols = dict(inherited)
    if strays and not all(normalize_header(h) in saved_cols for h in strays):
        raise DomainError(
            E_MAPPING, f"文件中没有需要对应的表头：{'、'.join(f'“{h}”' for h in strays)}", field="answers"
        )
    answer: dict[str, str] = {}
    for u in unknown:
        got = norm_answers.get(normalize_header(u))
        if got is None:
            raise DomainError(E_MAPPING, f"请为表头“{u}”选择对应的列（或“不导入”）", field=u)
        answer[normalize_header(u)] = _answer_key(got[1], u)
    for h, v in norm_answers.values():  # re-answering a saved header changes it
        if normalize_header(h) in saved_cols:
            answer[normalize_header(h)] = _answer_key(v, h)
    merged = {**saved_cols, **answer}
    # no column twice: neither two answers nor an answer and a header the file already names
    taken: dict[str, str] = {}
    for j, h in enumerate(plain.headers):
        n = normalize_header(h)
        if not n or n in merged:
            continue
        for k, pos in plain.columns.items():
            if pos == j:
                taken[k] = h
    for n, k in merged.items():
        if not k:
            continue
        if k in taken:
            raise DomainError(
                E_MAPPING,
                f"“{BY_KEY[k].header}”已对应表头“{taken[k]}”，不能再对应另一列",
                field=next((h for h, _ in norm_answers.values() if normalize_header(h) == n), "answers"),
            )
        taken[k] = n
    missing = [BY_KEY[k].header for k in REQUIRED_KEYS if k not in taken]
    if missing:
        raise DomainError(
            E_MAPPING, f"文件中没有必需的列：{'、'.join(missing)}，请指出是哪一个表头", field="answers"
        )
    with transaction.atomic():
        m = ImportMapping.objects.select_for_update().filter(signature=plain.signature).first()
        before = dict(m.columns) if m else dict(inherited)
        if m is None:
            m = ImportMapping(signature=plain.signature, version=0)
        m.headers = [h for h in plain.headers if h]
        m.columns = {**before, **answer}
        m.saved_by, m.saved_at, m.version = actor, clock.now(), m.version + 1
        m.save()
        audit_record(
            actor=actor,
            event_type="registry.import_mapping_save",
            obj=m,
            region_code=actor.region_id or "",
            data={
                "file_name": Path(file_name).name,
                "before": before,
                "after": m.columns,
                "on": str(on or ""),
            },
        )
    return m


def import_batch_remap(*, actor, batch_id: int) -> ImportBatch:
    """After the mapping question of a batch was answered: a new batch over the same stored file (same
    dry-run flag and income year), linked from the old one; the caller runs it."""
    from fangpin.registry.services.imports import import_batch_create

    require(actor, Cap.REGISTRY_IMPORT)
    with transaction.atomic():
        old = ImportBatch.objects.select_for_update().filter(pk=batch_id, created_by=actor).first()
        if old is None:
            raise DomainError("import_not_found", "导入批次不存在或无权访问")
        if old.status != ImportStatus.MAPPING or (old.details or {}).get("remapped_batch"):
            raise DomainError(E_MAPPING, f"导入批次#{old.pk}不是待确认列对应的批次")
        if not old.upload_path or not Path(old.upload_path).is_file():
            raise DomainError(E_MAPPING, "原文件已不在，请重新上传")
        data = Path(old.upload_path).read_bytes()
        new = import_batch_create(
            actor=actor, file_name=old.file_name, data=data, income_year=old.income_year, dry_run=old.dry_run
        )
        Path(old.upload_path).unlink(missing_ok=True)
        old.details = {**(old.details or {}), "remapped_batch": new.pk}
        old.upload_path = ""
        old.save(update_fields=["details", "upload_path"])
    return new


def batch_file(*, actor, batch: ImportBatch) -> bytes:
    """The stored bytes of a batch waiting for its mapping answer."""
    require(actor, Cap.REGISTRY_IMPORT)
    if batch.status != ImportStatus.MAPPING or not batch.upload_path or not Path(batch.upload_path).is_file():
        raise DomainError(E_MAPPING, "原文件已不在，请重新上传")
    return Path(batch.upload_path).read_bytes()


def question_payload(table: Table) -> dict[str, Any]:
    """What the batch records when it stops for the question (the screen asks it again from the file)."""
    return {
        "unknown": list(table.unknown_headers[:100]),
        "missing_required": [BY_KEY[k].header for k in table.missing_required],
        "header_row": table.header_row,
        "signature": table.signature,
    }
