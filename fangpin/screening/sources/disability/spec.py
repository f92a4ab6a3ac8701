"""残联 disability certificates (残疾人证: 18-digit ID + category digit + grade digit)."""

from ..base import CHOICE, DATE, INT, Column, FactMap, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="disability",
    title="残疾人证",
    departments=("残联",),
    columns=(
        *person_columns(id_title="残疾人证号", id_aliases=("残疾证号", "残疾人证编号", "持证编号")),
        Column(
            "category",
            "残疾类别",
            CHOICE,
            aliases=("残疾类型", "残疾种类"),
            required=True,
            choices=("1", "2", "3", "4", "5", "6", "7"),
            choice_aliases={
                "视力残疾": "1",
                "视力": "1",
                "听力残疾": "2",
                "听力": "2",
                "言语残疾": "3",
                "言语": "3",
                "肢体残疾": "4",
                "肢体": "4",
                "智力残疾": "5",
                "智力": "5",
                "精神残疾": "6",
                "精神": "6",
                "多重残疾": "7",
                "多重": "7",
            },
        ),
        Column(
            "grade",
            "残疾等级",
            INT,
            aliases=("残疾级别", "等级", "残疾程度"),
            required=True,
            choice_aliases={
                "一级": "1",
                "二级": "2",
                "三级": "3",
                "四级": "4",
                "壹级": "1",
                "贰级": "2",
                "叁级": "3",
                "肆级": "4",
                "1级": "1",
                "2级": "2",
                "3级": "3",
                "4级": "4",
            },  # fmt: skip
            min_value=1,
            max_value=4,
        ),
        Column(
            "issue_date",
            "发证日期",
            DATE,
            aliases=("持证日期", "首次发证日期", "办证日期", "评定日期", "换证日期", "发证时间"),
            required=True,
        ),
    ),
    event_date="issue_date",
    description="残联每月推送新发、换发残疾人证",
    link_unmatched_valid_ids=True,
    facts=(
        FactMap("person", "disability_category", "category", "disability_category"),
        FactMap("person", "disability_grade", "grade", "disability_grade"),
    ),
)
