"""水利 drinking-water interruptions per household."""

from ..base import DATE, INT, TEXT, Column, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="water",
    title="水利断水记录",
    departments=("水利",),
    columns=(
        *person_columns(),
        Column("start_date", "断水开始日期", DATE, required=True),
        Column("days", "断水天数", INT, aliases=("停水天数",), required=True, min_value=0, max_value=366),
        Column("cause", "断水原因", TEXT),
    ),
    event_date="start_date",
    description="水利部门每月推送饮水中断情况",
    link_unmatched_valid_ids=True,
)
