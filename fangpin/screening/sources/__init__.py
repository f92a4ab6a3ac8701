"""Department sources: one folder per kind, registered in one dict (add a line here for a new kind)."""

from __future__ import annotations

from fangpin.core.errors import DomainError

from .assets.spec import SPEC as ASSETS
from .base import Column, FactMap, Implied, SourceSpec
from .civil.spec import SPEC as CIVIL
from .disability.spec import SPEC as DISABILITY
from .education.spec import SPEC as EDUCATION
from .emergency.spec import SPEC as EMERGENCY
from .housing.spec import SPEC as HOUSING
from .hrss.spec import SPEC as HRSS
from .medical.spec import SPEC as MEDICAL
from .police.spec import SPEC as POLICE
from .water.spec import SPEC as WATER

SOURCES: dict[str, SourceSpec] = {
    s.kind: s
    for s in (MEDICAL, DISABILITY, POLICE, CIVIL, EDUCATION, HOUSING, EMERGENCY, HRSS, WATER, ASSETS)
}

E_UNKNOWN_SOURCE = "screening_unknown_source"


def source_get(kind: str) -> SourceSpec:
    try:
        return SOURCES[kind]
    except KeyError:
        raise DomainError(E_UNKNOWN_SOURCE, f"未知的部门数据类型“{kind}”", field="kind") from None


__all__ = ["SOURCES", "Column", "FactMap", "Implied", "SourceSpec", "source_get"]
