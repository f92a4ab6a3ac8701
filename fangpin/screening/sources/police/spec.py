"""公安 deaths and 户籍 changes (自然减少/增加)."""

from ..base import CHOICE, DATE, TEXT, Column, FactMap, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="police",
    title="公安户籍变动",
    departments=("公安",),
    columns=(
        *person_columns(),
        Column(
            "change_type",
            "变动类型",
            CHOICE,
            aliases=("变动原因", "业务类型"),
            required=True,
            choices=("死亡", "迁出", "迁入", "出生"),
            choice_aliases={"死亡注销": "死亡", "户口迁出": "迁出", "户口迁入": "迁入", "出生登记": "出生"},
        ),
        Column("change_date", "变动日期", aliases=("注销日期", "办理日期"), type=DATE, required=True),
        Column("note", "备注", TEXT),
    ),
    event_date="change_date",
    description="公安每月推送死亡注销与户籍迁移",
    link_unmatched_valid_ids=True,
    facts=(FactMap("person", "death_date", "change_date", "death_date", when={"change_type": ("死亡",)}),),
)
