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
            aliases=("鉴定结果", "房屋鉴定等级", "安全等级", "房屋安全等级", "危险性等级", "鉴定结论"),
            required=True,
            choices=("A", "B", "C", "D"),
            choice_aliases={
                "A级": "A",
                "B级": "B",
                "C级": "C",
                "D级": "D",
                "C级危房": "C",
                "D级危房": "D",
                "局部危房": "C",
                "整幢危房": "D",
                "局部危险": "C",
                "整幢危险": "D",
                "安全": "A",
                "基本安全": "B",
                "a": "A",
                "b": "B",
                "c": "C",
                "d": "D",
            },  # fmt: skip
        ),
        Column("appraise_date", "鉴定日期", DATE, aliases=("鉴定时间", "评定日期"), required=True),
        Column("address", "房屋地址", TEXT, aliases=("住址", "房屋坐落", "地址", "组")),
    ),
    event_date="appraise_date",
    description="住建部门农村房屋安全鉴定结果（C/D级危房）",
    link_unmatched_valid_ids=True,
    # The appraisal date alone is not compared: a re-appraisal with the same grade is no discrepancy.
    facts=(FactMap("household", "house_grade", "grade", "house_grade"),),
)
