"""人社 unemployment registrations."""

from ..base import CHOICE, DATE, TEXT, Column, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="hrss",
    title="人社失业登记",
    departments=("人社",),
    columns=(
        *person_columns(),
        Column(
            "reg_type",
            "登记类型",
            CHOICE,
            required=True,
            choices=("失业登记", "就业登记"),
            choice_aliases={"失业": "失业登记", "就业": "就业登记"},
        ),
        Column("reg_date", "登记日期", DATE, required=True),
        Column("employer", "原工作单位", TEXT),
    ),
    event_date="reg_date",
    description="人社部门失业登记、务工月监测",
    link_unmatched_valid_ids=True,
)
