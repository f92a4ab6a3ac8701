"""应急管理 disaster losses per household."""

from ..base import CHOICE, DATE, MONEY, Column, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="emergency",
    title="应急灾害损失",
    departments=("应急",),
    columns=(
        *person_columns(),
        Column(
            "disaster_type",
            "灾害类型",
            CHOICE,
            required=True,
            choices=("洪涝", "地质", "旱灾", "生物", "气象", "地震", "火灾", "其他"),
        ),
        Column("disaster_date", "受灾日期", DATE, aliases=("灾害发生日期",), required=True),
        Column("loss_amount", "直接经济损失", MONEY, aliases=("损失金额",), required=True),
    ),
    event_date="disaster_date",
    description="应急管理部门灾后推送受灾户及损失",
    link_unmatched_valid_ids=True,
)
