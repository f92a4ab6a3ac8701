"""人社 unemployment registrations."""

from ..base import CHOICE, DATE, TEXT, Column, Implied, SourceSpec, person_columns

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
            aliases=("登记类别", "业务类型", "就业失业状态", "就业状态"),
            required=True,
            choices=("失业登记", "就业登记"),
            choice_aliases={
                "失业": "失业登记",
                "就业": "就业登记",
                "登记失业": "失业登记",
                "失业人员": "失业登记",
                "已就业": "就业登记",
                "灵活就业": "就业登记",
                "就业人员": "就业登记",
            },  # fmt: skip
        ),
        Column(
            "reg_date",
            "登记日期",
            DATE,
            aliases=("失业登记日期", "就业登记日期", "登记时间", "办理日期"),
            required=True,
        ),
        Column("employer", "原工作单位", TEXT, aliases=("就业单位", "原就业单位", "工作单位", "用工单位")),
    ),
    event_date="reg_date",
    description="人社部门失业登记、务工月监测",
    link_unmatched_valid_ids=True,
    implied=(
        Implied("失业登记日期", "reg_type", "失业登记"),
        Implied("失业原因", "reg_type", "失业登记"),
        Implied("就业登记日期", "reg_type", "就业登记"),
    ),  # fmt: skip
)
