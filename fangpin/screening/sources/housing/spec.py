"""住建 rural house safety appraisals (A-D)."""

from ..base import CHOICE, DATE, TEXT, Column, FactMap, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="housing",
    title="住建房屋安全鉴定",
    departments=("住建",),
    columns=(
        *person_columns(),
        Column(
            "grade",
            "鉴定等级",
            CHOICE,
            aliases=("安全等级", "房屋安全等级"),
            required=True,
            choices=("A", "B", "C", "D"),
            choice_aliases={"A级": "A", "B级": "B", "C级": "C", "D级": "D"},
        ),
        Column("appraise_date", "鉴定日期", DATE, required=True),
        Column("address", "房屋地址", TEXT),
    ),
    event_date="appraise_date",
    description="住建部门农村房屋安全鉴定结果（C/D级危房）",
    link_unmatched_valid_ids=True,
    # The appraisal date alone is not compared: a re-appraisal with the same grade is no discrepancy.
    facts=(FactMap("household", "house_grade", "grade", "house_grade"),),
)
