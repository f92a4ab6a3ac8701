"""Parameter lookup: the most specific region prefix wins, then the latest year not after the one asked,
then the latest version. Every computation keeps the ``ParamValue``s it used (id + version)."""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from fangpin.core.errors import DomainError

from .models import Parameter

DEFAULTS_FILE = Path(__file__).resolve().parent / "data" / "defaults.json"

E_MISSING = "param_missing"


@dataclass(frozen=True)
class ParamValue:
    key: str
    value: Any
    param_id: int
    version: int
    region_code: str
    year: int

    def ref(self) -> dict[str, Any]:
        """What a computation stores about the parameter it used."""
        return {
            "key": self.key,
            "id": self.param_id,
            "version": self.version,
            "region": self.region_code,
            "year": self.year,
            "value": self.value,
        }


def _prefixes(region_code: str) -> list[str]:
    code = region_code or ""
    out = [""]
    for n in (2, 4, 6, 9, 12):
        if len(code) >= n:
            out.append(code[:n])
    return out


# A per-request (or per-job) memo of lookups: the web middleware opens one per request, so a page that
# asks for the same parameter sixty times reads it once. Inside it, lookups also come from a process-wide
# cache keyed by the parameter table's *stamp* (row count, active count, highest id, latest creation: every
# ``parameter_set`` and ``load_defaults`` moves it), read once per scope — so a household file reads one
# small aggregate instead of ~17 parameter rows, and a new parameter version is seen by the next request of
# every process. Outside ``param_cache()`` every lookup reads.
_CACHE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("fangpin_param_cache", default=None)
_STAMP = "__stamp__"
_PROCESS: dict[tuple, dict] = {}  # {stamp: {(key, region, year): ParamValue}}; only the latest stamp kept


@contextlib.contextmanager
def param_cache() -> Iterator[None]:
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def param_stamp() -> tuple:
    """What changes whenever a parameter row is added, (de)activated or removed: the rows, the active rows,
    the largest id and the latest creation time. One constant statement (read each request the parameters
    are asked for), so its text is written once here rather than compiled by the ORM each time; the time is
    compared as the database returns it (the stamp is only ever compared with another stamp)."""
    from django.db import connections

    connection = connections[Parameter.objects.db]
    q = connection.ops.quote_name
    pk, active, created = (q(Parameter._meta.get_field(f).column) for f in ("id", "is_active", "created_at"))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT({pk}), COUNT(CASE WHEN {active} THEN 1 END), MAX({pk}), MAX({created})"
            f" FROM {q(Parameter._meta.db_table)}"
        )
        n, a, i, c = cur.fetchone()
    return (n, a, i, c.isoformat() if hasattr(c, "isoformat") else str(c or ""))


def param_get(key: str, *, region_code: str, year: int) -> ParamValue:
    memo = _CACHE.get()
    if memo is None:
        return _param_read(key, region_code=region_code, year=year)
    k = (key, region_code or "", year)
    if k not in memo:
        if _STAMP not in memo:
            memo[_STAMP] = stamp = param_stamp()
            if stamp not in _PROCESS:
                _PROCESS.clear()
                _PROCESS[stamp] = {}
        shared = _PROCESS.get(memo[_STAMP])
        if shared is not None and k in shared:
            memo[k] = shared[k]
        else:
            memo[k] = _param_read(key, region_code=region_code, year=year)
            if shared is not None:
                shared[k] = memo[k]
    return memo[k]


def params_preload(keys: Iterable[str], *, region_codes: Iterable[str], year: int) -> None:
    """Inside ``param_cache()``: ``param_get`` of every key for every region code and ``year``, read in one
    query (a county's villages, where one read each would be one query per key and village) and chosen
    by the same rule (``_param_choose``); a lookup without any row is left to ``param_get`` (its error).
    Outside ``param_cache()`` it does nothing."""
    memo = _CACHE.get()
    if memo is None:
        return
    keys, codes = list(keys), {c or "" for c in region_codes}
    prefixes = {p for c in codes for p in _prefixes(c)}
    rows: dict[str, list[dict[str, Any]]] = {}
    for r in (
        Parameter.objects.filter(key__in=keys, is_active=True, year__lte=year, region_code__in=prefixes)
        .order_by("-year", "-version")
        .values("key", "id", "value", "version", "region_code", "year")
    ):
        rows.setdefault(r["key"], []).append(r)
    for key in keys:
        for code in codes:
            mine = set(_prefixes(code))
            candidates = [r for r in rows.get(key, []) if r["region_code"] in mine]
            if candidates:
                memo[(key, code, year)] = _param_choose(
                    key, region_code=code, year=year, candidates=candidates
                )


def _param_read(key: str, *, region_code: str, year: int) -> ParamValue:
    candidates = list(
        Parameter.objects.filter(
            key=key, is_active=True, year__lte=year, region_code__in=_prefixes(region_code)
        )
        .order_by("-year", "-version")
        .values("id", "value", "version", "region_code", "year")
    )
    return _param_choose(key, region_code=region_code, year=year, candidates=candidates)


def _param_choose(key: str, *, region_code: str, year: int, candidates: list[dict[str, Any]]) -> ParamValue:
    """The rule: of the active rows of ``key`` for a prefix of the region and a year not after ``year``
    (ordered latest year, latest version first), the most specific region, then the latest year, then the
    latest version."""
    if not candidates:
        raise DomainError(
            E_MISSING, f"缺少政策参数“{key}”（区域 {region_code or '全国'}，{year}年），请管理员配置"
        )
    best = max(candidates, key=lambda c: (len(c["region_code"]), c["year"], c["version"]))
    return ParamValue(key, best["value"], best["id"], best["version"], best["region_code"], best["year"])


def param_value(key: str, *, region_code: str, year: int) -> Any:
    return param_get(key, region_code=region_code, year=year).value


@transaction.atomic
def parameter_set(
    *,
    actor,
    key: str,
    value: Any,
    region_code: str = "",
    year: int,
    basis: str = "",
    doc_no: str = "",
    note: str = "",
) -> Parameter:
    """New version of a parameter; older versions stay (inactive) so past computations remain explainable."""
    from fangpin.accounts.roles import Cap
    from fangpin.accounts.scope import require
    from fangpin.audit.record import audit_record

    require(actor, Cap.PARAMS_EDIT)  # a user, or a named system actor; never None
    problem = value_problem(value)
    if problem:  # infinite, NaN, negative or absurd numbers, control characters, deep nesting
        raise DomainError(E_VALUE, problem, field="value")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError(E_YEAR, "年度须在2000至2100之间", field="year")
    prev = Parameter.objects.filter(key=key, region_code=region_code, year=year).order_by("-version").first()
    Parameter.objects.filter(key=key, region_code=region_code, year=year, is_active=True).update(
        is_active=False
    )
    p = Parameter.objects.create(
        key=key,
        value=value,
        region_code=region_code,
        year=year,
        basis=basis,
        doc_no=doc_no,
        note=note,
        version=(prev.version + 1) if prev else 1,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        event_type="policy.parameter_set",
        obj=p,
        region_code=region_code,
        data={
            "key": key,
            "year": year,
            "old": prev.value if prev else None,
            "new": value,
            "version": p.version,
        },
    )
    if (memo := _CACHE.get()) is not None:
        memo.clear()  # a change is seen by the rest of the same request
    return p


E_BASIS = "param_basis_required"
E_TYPE = "param_type_changed"


def _shape(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


E_VALUE = "param_value_invalid"
E_YEAR = "param_year_invalid"
MAX_DEPTH = 32  # nesting of a parameter value (the deepest shipped default has 3)
MAX_MAGNITUDE = 1e12  # no line, rate, count or amount of a county comes near it


def value_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` cannot be a parameter value (infinite or NaN numbers, negative or absurd numbers,
    text with control characters, nesting deeper than 32), or None."""
    import math

    from fangpin.core.text import text_problem

    if depth > MAX_DEPTH:
        return f"参数值嵌套层数超过{MAX_DEPTH}层"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return f"参数值中的数字须为有限的非负数，不能是{value}"
        if value < 0 or value > MAX_MAGNITUDE:
            return f"参数值中的数字须为有限的非负数（0至{MAX_MAGNITUDE:.0e}），不能是{str(value)[:20]}"
        return None
    if isinstance(value, str):
        problem = text_problem(value, multiline=True)
        return f"参数值中的文字：{problem}" if problem else None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return f"参数值的类型{type(value).__name__}不可用"
    for item in items:
        problem = value_problem(item, depth + 1)
        if problem:
            return problem
    return None


def parameter_value_parse(text: str) -> Any:
    """The JSON a person typed (administration screen, CLI) → a value, or DomainError naming the field.
    Refuses NaN/Infinity (not JSON), numbers too large for a float (1e400) and nesting over 32 levels."""

    def no_constant(name: str):
        raise ValueError(name)

    try:
        value = json.loads(text, parse_constant=no_constant)
    except RecursionError:
        raise DomainError(E_VALUE, f"参数值嵌套层数超过{MAX_DEPTH}层", field="value") from None
    except ValueError:
        raise DomainError(
            E_VALUE,
            '参数值须为 JSON（数字如 7900；列表如 ["因病", "因残"]；文字须加引号），不能是NaN或Infinity',
            field="value",
        ) from None
    problem = value_problem(value)
    if problem:
        raise DomainError(E_VALUE, problem, field="value")
    return value


def parameter_change(
    *,
    actor,
    key: str,
    value: Any,
    region_code: str = "",
    year: int,
    basis: str,
    doc_no: str,
    note: str = "",
) -> Parameter:
    """A change made by a person (administration screen, CLI): the basis (依据) and the document number
    (文件号) are required, the key must exist, and the value keeps the shape the key already has (a number
    stays a number, a list a list), so a typo cannot turn the monitoring line into text. A new version
    through ``parameter_set`` (older versions stay, audited)."""
    try:
        return _parameter_change(
            actor=actor, key=key, value=value, region_code=region_code, year=year, basis=basis,
            doc_no=doc_no, note=note,
        )  # fmt: skip
    except DomainError as e:  # a refused change is recorded (kept though the caller's transaction rolls back)
        from fangpin.audit.refusals import audit_refusal

        audit_refusal(
            actor=actor, event_type="policy.change_refused", object_type="policy.parameter",
            object_id=str(key)[:64], reason=e.message[:500], data={"field": e.field or "", "code": e.code},
        )  # fmt: skip
        raise


def _parameter_change(
    *, actor, key: str, value: Any, region_code: str, year: int, basis: str, doc_no: str, note: str
) -> Parameter:
    if not basis.strip() or not doc_no.strip():
        raise DomainError(
            E_BASIS, "修改政策参数须填写依据和文件号", field="basis" if not basis.strip() else "doc_no"
        )
    problem = value_problem(value)
    if problem:
        raise DomainError(E_VALUE, problem, field="value")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError(E_YEAR, "年度须在2000至2100之间", field="year")
    prev = Parameter.objects.filter(key=key).order_by("-year", "-version").first()
    if prev is None:
        raise DomainError(E_MISSING, f"没有参数“{key}”", field="key")
    if _shape(prev.value) != _shape(value):
        raise DomainError(
            E_TYPE, f"参数“{key}”的值类型应为{_shape(prev.value)}，填写的是{_shape(value)}", field="value"
        )
    if region_code and (not region_code.isdigit() or len(region_code) not in (2, 4, 6, 9, 12)):
        raise DomainError("param_region_invalid", "适用区域前缀应为2/4/6/9/12位区划代码", field="region_code")
    scope = getattr(actor, "scope_prefix", None)
    if actor is not None and scope is not None and not region_code.startswith(scope):
        raise DomainError(
            "param_region_outside", f"只能设置本辖区（{scope}）范围内的参数", field="region_code"
        )
    return parameter_set(
        actor=actor,
        key=key,
        value=value,
        region_code=region_code,
        year=year,
        basis=basis.strip(),
        doc_no=doc_no.strip(),
        note=note,
    )


def load_defaults(path: Path = DEFAULTS_FILE) -> int:
    """Installs the shipped defaults (policy/data/defaults.json) where no value exists yet. Idempotent."""
    entries = json.loads(path.read_text(encoding="utf-8"))["parameters"]
    created = 0
    for e in entries:
        exists = Parameter.objects.filter(
            key=e["key"], region_code=e.get("region", ""), year=e["year"]
        ).exists()
        if not exists:
            Parameter.objects.create(
                key=e["key"],
                region_code=e.get("region", ""),
                year=e["year"],
                value=e["value"],
                basis=e.get("basis", ""),
                doc_no=e.get("doc_no", ""),
            )
            created += 1
    return created
