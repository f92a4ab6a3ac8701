"""The other national export files besides 监测对象信息 (which is ``io.columns`` / ``io.validate``):

- ``living_conditions`` （乡村建设）户信息 → ``HouseholdLivingConditions``
- ``village_profile``   （自定义）行政村信息 → ``VillageProfile``

``base`` (column tables, header detection, value spellings, formats), ``store`` (diff and write with
history and provenance). The service is ``registry/services/kind_imports.py``; the commands
``import_registry --kind`` / ``export_registry --kind``. See docs/parts/registry_io.md.
"""

from __future__ import annotations

from ..columns import normalize_header
from . import living_conditions, village_profile
from .base import FileKind

KIND_REGISTRY = "registry"
SPECS: dict[str, FileKind] = {
    living_conditions.KIND: living_conditions.SPEC,
    village_profile.KIND: village_profile.SPEC,
}
KIND_LABELS = {
    KIND_REGISTRY: "（自定义）监测对象信息",
    living_conditions.KIND: living_conditions.SPEC.title,
    village_profile.KIND: village_profile.SPEC.title,
}
MODULES = {living_conditions.KIND: living_conditions, village_profile.KIND: village_profile}

_PERSON_MARKS = {"姓名", "与户主关系", "性别", "出生日期", "文化程度", "劳动技能"}
_VILLAGE_MARKS = {"是否出列", "总户数", "总人口数", "低保户数", "未实现饮水安全户数", "危房户数"}
_LIVING_MARKS = {
    "卫生厕所是否能正常使用",
    "户主姓名",
    "是否通生产用电",
    "入户路类型",
    "主要燃料类型",
    "饮水是否困难",
}


# （基础信息）户信息 is what some counties call the person-level base table (a provincial checker's main.py):
# only 乡村建设 marks the living-conditions file; a bare 户信息 is left to the header.
_NAME_MARKS = (
    ("行政村信息", village_profile.KIND),
    ("乡村建设", living_conditions.KIND),
    ("监测对象信息", KIND_REGISTRY),
    ("基础信息", KIND_REGISTRY),
)


def kind_from_file_name(file_name: str) -> str | None:
    """The kind the national system's own file name says (（乡村建设）户信息_20231218.xlsx …), or None."""
    for mark, kind in _NAME_MARKS:
        if mark in file_name:
            return kind
    return None


def sniff_file_kind(rows: list[list[str]]) -> str:
    """Which national file the first rows look like: a person-level 监测对象信息 names its members' columns
    (姓名, 与户主关系 …); 行政村信息 has village counts and no 户编号; 户信息 has 户编号 but no person columns
    (or, 户编号 renamed, at least two of its own condition columns)."""
    for row in rows[:20]:
        heads = {normalize_header(c) for c in row if c}
        if len(heads) < 4:
            continue
        person = len(heads & _PERSON_MARKS)
        if "户编号" not in heads and len(heads & _VILLAGE_MARKS) >= 2:
            return village_profile.KIND
        if "户编号" in heads:
            if person >= 2:
                return KIND_REGISTRY
            if heads & _LIVING_MARKS or person == 0:
                return living_conditions.KIND
        elif (
            person < 2 and len(heads & _LIVING_MARKS) >= 2
        ):  # 户编号 renamed by hand: the mapping question asks
            return living_conditions.KIND
    return KIND_REGISTRY


def file_kind(data: bytes, file_name: str, *, guarded: bool = False) -> str:
    """The kind of an upload: from the national file name, else from its header rows (a file that cannot
    be read, or that the upload guard refuses, is left to the 监测对象信息 import, which reports why).
    ``guarded``: the caller has just passed these bytes through ``core.uploads.upload_check``."""
    from fangpin.core.errors import DomainError

    from ..read import read_head

    by_name = kind_from_file_name(file_name)
    if by_name:
        return by_name
    from fangpin.core.uploads import upload_inspect

    try:
        if not guarded:
            upload_inspect(data, file_name)  # a hostile file is never read, not even its head
        rows = read_head(data, file_name)
    except DomainError:
        return KIND_REGISTRY
    return sniff_file_kind(rows)


__all__ = [
    "KIND_LABELS",
    "KIND_REGISTRY",
    "MODULES",
    "SPECS",
    "file_kind",
    "kind_from_file_name",
    "sniff_file_kind",
]
