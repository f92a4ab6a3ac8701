"""The catalogue of assistance measures (parameter ``catalogue.measures``: name → kind) edited entry by entry:
adding and retiring measures is a new version of the parameter for a region and year, with its basis and
document number, audited like every parameter change (``params.parameter_change``). A retired measure
stays on the monitoring objects that already have it (they keep its name and kind); it is only no longer
offered for new measures. The administration screen (系统管理 → 措施目录) and ``fangpin measure_catalogue``
call it."""

from __future__ import annotations

import datetime as dt

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core.errors import DomainError

from .models import Parameter
from .params import param_get, parameter_change

KEY = "catalogue.measures"
E_CATALOGUE = "catalogue_invalid"
MAX_NAME = 30

MEASURE_KINDS = {
    "developmental": "开发式帮扶",
    "protection": "综合保障（兜底）",
    "education": "教育",
    "health": "健康",
    "housing": "住房",
    "water": "饮水",
    "social": "社会帮扶",
    "relocation": "搬迁后扶",
    "other": "其他",
}


def measure_catalogue(*, region_code: str, year: int):
    """The catalogue in force for a region and year (the parameter value with its version)."""
    return param_get(KEY, region_code=region_code, year=year)


def _kind(kind: str) -> str:
    k = (kind or "").strip()
    if k in MEASURE_KINDS:
        return k
    for code, label in MEASURE_KINDS.items():
        if k == label:
            return code
    raise DomainError(
        E_CATALOGUE, f"措施类别“{kind}”不存在（可选：{'、'.join(MEASURE_KINDS.values())}）", field="kind"
    )


def measure_catalogue_change(
    *,
    actor,
    region_code: str,
    year: int,
    add: dict[str, str] | None = None,
    retire: list[str] | None = None,
    basis: str,
    doc_no: str,
    on: dt.date,
) -> Parameter:
    """Adds (name → kind) and retires (names) measures as one new version of the catalogue for
    ``region_code`` from ``year``. Refuses a duplicate, an unknown kind or name, and an empty catalogue."""
    require(actor, Cap.PARAMS_EDIT)
    add = {(n or "").strip(): k for n, k in (add or {}).items()}
    retire = [(n or "").strip() for n in (retire or []) if (n or "").strip()]
    if not add and not retire:
        raise DomainError(E_CATALOGUE, "请填写要新增或停用的措施", field="name")
    current = dict(measure_catalogue(region_code=region_code, year=year).value)
    value = dict(current)
    for name in retire:
        if name not in value:
            raise DomainError(E_CATALOGUE, f"目录中没有措施“{name}”", field="retire")
        del value[name]
    for name, kind in add.items():
        if not name:
            raise DomainError(E_CATALOGUE, "请填写措施名称", field="name")
        if len(name) > MAX_NAME:
            raise DomainError(E_CATALOGUE, f"措施名称不超过{MAX_NAME}个字", field="name")
        if name in current and name not in retire:
            raise DomainError(E_CATALOGUE, f"目录中已有措施“{name}”", field="name")
        value[name] = _kind(kind)
    if not value:
        raise DomainError(E_CATALOGUE, "目录不能为空", field="retire")
    parts = []
    if add:
        parts.append("新增：" + "、".join(f"{n}（{MEASURE_KINDS[value[n]]}）" for n in add))
    if retire:
        parts.append("停用：" + "、".join(retire))
    return parameter_change(
        actor=actor,
        key=KEY,
        value=value,
        region_code=region_code,
        year=year,
        basis=basis,
        doc_no=doc_no,
        note="；".join(parts) + f"（办理日期 {on.isoformat()}）",
    )
