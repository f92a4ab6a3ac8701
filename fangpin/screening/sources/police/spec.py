"""公安 deaths and 户籍 changes (自然减少/增加)."""

from ..base import CHOICE, DATE, TEXT, Column, FactMap, Implied, SourceSpec, person_columns

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
            aliases=("变动类别", "变更类别", "变动原因", "业务类型", "注销原因", "变动项目"),
            required=True,
            choices=("死亡", "迁出", "迁入", "出生"),
            choice_aliases={
                "死亡注销": "死亡",
                "注销(死亡)": "死亡",
                "死亡销户": "死亡",
                "户口迁出": "迁出",
                "迁出注销": "迁出",
                "迁往外地": "迁出",
                "户口迁入": "迁入",
                "迁移入户": "迁入",
                "出生登记": "出生",
                "出生申报": "出生",
                "出生入户": "出生",
            },  # fmt: skip
        ),
        Column(
            "change_date",
            "变动日期",
            aliases=(
                "变动时间",
                "死亡日期",
                "死亡时间",
                "注销户口日期",
                "注销日期",
                "业务办理日期",
                "办理日期",
            ),
            type=DATE,
            required=True,
        ),
        Column("note", "备注", TEXT, aliases=("死亡原因", "迁往地址", "户籍地址", "住址")),
    ),
    event_date="change_date",
    description="公安每月推送死亡注销与户籍迁移",
    link_unmatched_valid_ids=True,
    # a 死亡人员名单 / 死亡注销名单 carries no 变动类型: every row is a death
    implied=(
        Implied("死亡日期", "change_type", "死亡"),
        Implied("死亡时间", "change_type", "死亡"),
        Implied("死亡原因", "change_type", "死亡"),
    ),  # fmt: skip
    facts=(FactMap("person", "death_date", "change_date", "death_date", when={"change_type": ("死亡",)}),),
)
