"""The column-mapping question of the national imports: 监测对象信息 (``io.columns``) and the other national
files, （乡村建设）户信息 and （自定义）行政村信息 (``io.kinds``), through the same code (``_Target`` is what
differs per file kind: its columns, required columns, header search and converters).

A file whose header row has headers no alias knows (a county renamed a column, added its own, typed
brackets or blanks differently than any spelling we know) is never guessed: the import stops at
``ImportStatus.MAPPING`` with one question — for each unknown header, which known national column it is
or "不导入" (not stored), and which required column (户编号/证件号码/姓名) no header names. The question comes
with a proposal (a close spelling of a known header, shown as a suggestion, never applied unasked) and the
first rows as they would be parsed with it. The answer is saved per file kind and header layout
(``ImportMapping`` by kind and ``io.read.header_signature``), audited, and reused for the next upload of
that kind with the same headers.

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
from fangpin.registry.io.convert import CellError, dates_as_of
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
KIND_REGISTRY = ImportBatch.KIND_REGISTRY


class _Target:
    """What the mapping question needs of one file kind. The 监测对象信息 export (``io.columns``)."""

    kind = KIND_REGISTRY
    title = "监测对象信息"

    def columns(self) -> list[tuple[str, str]]:
        """(key, label) of every column an unknown header can be mapped to, national ones first."""
        cols = sorted(
            (c for c in COLUMNS if c.target != DERIVED), key=lambda c: (not c.national, COLUMNS.index(c))
        )
        return [(c.key, c.header if c.national else f"{c.header}（本系统扩展列）") for c in cols]

    def label(self, key: str) -> str:
        return BY_KEY[key].header

    def key_of(self, value: str) -> str | None:
        """The column key an answer names (as key, national header or alias), or None."""
        if value in BY_KEY and BY_KEY[value].target != DERIVED:
            return value
        col = HEADER_INDEX.get(normalize_header(value))
        return col.key if col is not None and col.target != DERIVED else None

    def names(self) -> dict[str, str]:
        """Normalised header or alias → column key (for proposals)."""
        return {n: c.key for n, c in HEADER_INDEX.items() if c.target != DERIVED}

    def read(self, head: list[list[str]], mappings: dict[str, HeaderMapping]) -> Table:
        return table_from_rows(head, mappings)

    def missing(self, table: Table) -> list[str]:
        return table.missing_required

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(REQUIRED_KEYS)

    def cell(self, key: str | None, text: str, *, ignored: bool = False) -> dict[str, str]:
        return _cell(BY_KEY[key] if key else None, text, ignored=ignored)


class _KindTarget(_Target):
    """（乡村建设）户信息 / （自定义）行政村信息: the column table of ``io.kinds``."""

    def __init__(self, kind: str) -> None:
        from fangpin.registry.io.kinds import SPECS

        self.kind, self.spec = kind, SPECS[kind]
        self.title = self.spec.title

    def columns(self) -> list[tuple[str, str]]:
        return [(c.key, c.header) for c in self.spec.columns]

    def label(self, key: str) -> str:
        return self.spec.column(key).header

    def key_of(self, value: str) -> str | None:
        if any(c.key == value for c in self.spec.columns):
            return value
        col = self.spec.index().get(normalize_header(value))
        return col.key if col is not None else None

    def names(self) -> dict[str, str]:
        return {n: c.key for n, c in self.spec.index().items()}

    def read(self, head: list[list[str]], mappings: dict[str, HeaderMapping]) -> Table:
        from fangpin.registry.io.kinds.base import table_from_rows as kind_table

        return kind_table(head, self.spec, mappings=mappings)[0]

    def missing(self, table: Table) -> list[str]:
        from fangpin.registry.io.kinds.base import missing_required

        return missing_required(table, self.spec)

    @property
    def required(self) -> tuple[str, ...]:
        return self.spec.required_keys

    def cell(self, key: str | None, text: str, *, ignored: bool = False) -> dict[str, str]:
        from fangpin.registry.io.kinds.base import converter, fmt

        if not text:
            return {"text": "", "value": "", "error": ""}
        if key is None:
            return {"text": text, "value": "", "error": "", "note": "不导入" if ignored else "未对应"}
        col = self.spec.column(key)
        try:
            v, _ = converter(col)(text)
        except CellError as e:
            return {"text": text, "value": "", "error": e.message}
        return {"text": text, "value": fmt(col, v), "error": ""}


def target(kind: str = KIND_REGISTRY) -> _Target:
    """The mapping target of a file kind (``ImportBatch.kind``)."""
    from fangpin.registry.io.kinds import SPECS

    if kind == KIND_REGISTRY:
        return _Target()
    if kind in SPECS:
        return _KindTarget(kind)
    raise DomainError(E_MAPPING, f"不支持的导入类型“{kind}”")


def column_choices(kind: str = KIND_REGISTRY) -> list[tuple[str, str]]:
    """(key, label) of every column an unknown header of a ``kind`` file can be mapped to."""
    return target(kind).columns()


def _answer_key(value: str, header: str, t: _Target) -> str:
    """A column key from an answer given as key, national header or alias; "" for 不导入."""
    v = (value or "").strip()
    if v in _NOT_STORED_WORDS:
        return NOT_STORED
    key = t.key_of(v)
    if key is not None:
        return key
    raise DomainError(
        E_MAPPING, f"表头“{header}”对应的“{value}”不是{t.title}表的列（可选“不导入”）", field=header
    )


def saved_mappings(rows: list[list[str]], kind: str = KIND_REGISTRY) -> dict[str, HeaderMapping]:
    """Saved answers of this file kind for the layouts the top rows could be, by header signature: the
    answer saved for exactly these headers, else the fullest answer saved for a layout whose headers this
    row all has (a county added a column: only the new header is asked about)."""
    cands = {header_signature(r): r for r in rows[:HEADER_SCAN_ROWS] if any(r)}
    mine = ImportMapping.objects.filter(kind=kind)
    out = {m.signature: dict(m.columns) for m in mine.filter(signature__in=list(cands))}
    rest = [sig for sig in cands if sig not in out]
    if rest:
        saved = [(m, {normalize_header(h) for h in m.headers if h}) for m in mine[:500]]
        for sig in rest:
            have = {normalize_header(h) for h in cands[sig] if h}
            fits = [(len(hs), m) for m, hs in saved if hs and hs <= have]
            if fits:
                out[sig] = dict(max(fits, key=lambda x: (x[0], x[1].saved_at))[1].columns)
    return out


def _saved_for_table(table: Table, kind: str = KIND_REGISTRY) -> ImportMapping | None:
    return ImportMapping.objects.filter(kind=kind, signature=table.signature).first()


def read_with_saved(
    data: bytes, file_name: str, overlay: dict[str, str] | None = None, kind: str = KIND_REGISTRY
) -> Table:
    """The head of the file (header search rows + the preview rows) read with its layout's saved mapping
    (and ``overlay``: answers not saved yet, by file header). Never the whole file: a question about a
    100,000-row export answers at once."""
    t = target(kind)
    head = read_head(data, file_name, HEADER_SCAN_ROWS + PREVIEW_ROWS + 5)
    saved = saved_mappings(head, kind)
    table = t.read(head, saved)
    if overlay:  # applies to whichever layout the file turned out to have
        norm = {normalize_header(h): k for h, k in overlay.items()}
        merged = {**(saved.get(table.signature) or {}), **norm}
        table = t.read(head, {table.signature: merged})
    return table


def needs_mapping(table: Table, kind: str = KIND_REGISTRY) -> bool:
    """Whether the table has headers no alias or saved answer knows, or lacks a required column."""
    return bool(table.unknown_headers or target(kind).missing(table))


def _proposal(header: str, taken: set[str], t: _Target) -> str | None:
    """A known column whose header or alias is spelled close to ``header`` (a suggestion only)."""
    h = normalize_header(header)
    index = t.names()
    names = [n for n, k in index.items() if k not in taken]
    for n in names:  # one contains the other (户编号 ⊂ 家庭户编号), at least two characters
        if len(n) >= 2 and len(h) >= 2 and (n in h or h in n):
            return index[n]
    close = difflib.get_close_matches(h, names, n=1, cutoff=0.6)
    return index[close[0]] if close else None


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


def mapping_question(
    *,
    actor,
    file_name: str,
    data: bytes,
    on: dt.date,
    answers: dict[str, str] | None = None,
    kind: str = KIND_REGISTRY,
) -> dict:
    """The mapping question for this ``kind`` file (changes nothing): ``needed`` (bool), the unknown headers
    each with its current answer or proposal, the required columns still missing, the first rows parsed
    with the proposed mapping as of the business date ``on`` (a date after it is shown as an error), the
    saved mapping's version, and the choices."""
    require(actor, Cap.REGISTRY_IMPORT)
    t = target(kind)
    answers = dict(answers or {})
    plain = read_with_saved(data, file_name, kind=kind)
    saved = _saved_for_table(plain, kind)
    known = set(plain.columns)
    unknown = []
    proposed: dict[str, str] = {}
    for h in plain.unknown_headers:
        if h in answers:
            try:
                key = _answer_key(answers[h], h, t)
            except DomainError:
                key = None
            source = "answer"
        else:
            key = _proposal(h, known | set(proposed.values()), t)
            source = "proposal" if key else "none"
        if key:
            proposed[h] = key
        elif key == NOT_STORED and source == "answer":
            proposed[h] = NOT_STORED
        unknown.append(
            {
                "header": h,
                "key": key if key is not None else None,
                "label": t.label(key) if key else ("不导入" if key == NOT_STORED else ""),
                "source": source,
            }
        )
    table = read_with_saved(data, file_name, overlay=proposed, kind=kind) if proposed else plain
    missing = [t.label(k) for k in t.missing(table)]
    by_pos = {j: k for k, j in table.columns.items()}
    ignored = set(table.ignored_headers)
    heads = []
    for j, h in enumerate(table.headers):
        if not h:
            continue
        col = by_pos.get(j)
        heads.append(
            {"header": h, "pos": j, "column": t.label(col) if col else ("不导入" if h in ignored else "？")}
        )
    rows = []
    with dates_as_of(on):
        for i in range(min(PREVIEW_ROWS, len(table.rows))):
            r = table.rows[i]
            rows.append(
                {
                    "row": table.row_number(i),
                    "cells": [
                        t.cell(
                            by_pos.get(x["pos"]),
                            r[x["pos"]] if x["pos"] < len(r) else "",
                            ignored=x["column"] == "不导入",
                        )
                        for x in heads
                    ],
                }
            )
    return {
        "kind": kind,
        "title": t.title,
        "needed": needs_mapping(plain, kind),
        "header_row": table.header_row,
        "signature": plain.signature,
        "unknown": unknown,
        "missing_required": missing,
        "headers": heads,
        "rows": rows,
        "saved": {"version": saved.version, "columns": saved.columns} if saved else None,
        "choices": t.columns(),
    }


def import_mapping_save(
    *,
    actor,
    file_name: str,
    data: bytes,
    answers: dict[str, str],
    on: dt.date,
    kind: str = KIND_REGISTRY,
) -> ImportMapping:
    """Saves the answer for this ``kind`` file's header layout (merged into an earlier answer for it),
    given on the business date ``on``: every unknown header must be answered (a column, or "不导入"), no
    column twice, and the required columns named. Audited (``registry.import_mapping_save`` with
    before/after)."""
    require(actor, Cap.REGISTRY_IMPORT)
    t = target(kind)
    head = read_head(data, file_name, HEADER_SCAN_ROWS + PREVIEW_ROWS + 5)
    plain = read_with_saved(data, file_name, kind=kind)
    inherited = saved_mappings(head, kind).get(plain.signature, {})
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
        answer[normalize_header(u)] = _answer_key(got[1], u, t)
    for h, v in norm_answers.values():  # re-answering a saved header changes it
        if normalize_header(h) in saved_cols:
            answer[normalize_header(h)] = _answer_key(v, h, t)
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
                f"“{t.label(k)}”已对应表头“{taken[k]}”，不能再对应另一列",
                field=next((h for h, _ in norm_answers.values() if normalize_header(h) == n), "answers"),
            )
        taken[k] = n
    missing = [t.label(k) for k in t.required if k not in taken]
    if missing:
        raise DomainError(
            E_MAPPING, f"文件中没有必需的列：{'、'.join(missing)}，请指出是哪一个表头", field="answers"
        )
    with transaction.atomic():
        m = ImportMapping.objects.select_for_update().filter(kind=kind, signature=plain.signature).first()
        before = dict(m.columns) if m else dict(inherited)
        if m is None:
            m = ImportMapping(kind=kind, signature=plain.signature, version=0)
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
                "kind": kind,
                "file_name": Path(file_name).name,
                "before": before,
                "after": m.columns,
                "on": on.isoformat(),
            },
        )
    return m


def import_batch_remap(*, actor, batch_id: int, on: dt.date) -> ImportBatch:
    """After the mapping question of a batch was answered (on the business date ``on``): a new batch over
    the same stored file (same kind, dry-run flag and income year), linked from the old one; the caller
    runs it."""
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
            actor=actor,
            file_name=old.file_name,
            data=data,
            on=on,
            income_year=old.income_year,
            dry_run=old.dry_run,
            kind=old.kind,
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


def question_payload(table: Table, kind: str = KIND_REGISTRY) -> dict[str, Any]:
    """What the batch records when it stops for the question (the screen asks it again from the file)."""
    t = target(kind)
    return {
        "kind": kind,
        "unknown": list(table.unknown_headers[:100]),
        "missing_required": [t.label(k) for k in t.missing(table)],
        "header_row": table.header_row,
        "signature": table.signature,
    }
