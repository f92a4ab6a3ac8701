"""教育 enrolment and dropout (学籍)."""

from ..base import CHOICE, DATE, TEXT, Column, FactMap, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="education",
    title="教育学籍",
    departments=("教育",),
    columns=(
        *person_columns(id_aliases=("学生身份证号",)),
        Column(
            "stage",
            "学段",
            CHOICE,
            aliases=("就读学段",),
            required=True,
            choices=("学前", "小学", "初中", "高中", "中职", "高职", "本科"),
        ),
        Column(
            "status",
            "学籍状态",
            CHOICE,
            required=True,
            choices=("在读", "辍学", "休学", "毕业", "转出"),
            choice_aliases={"失学": "辍学", "失学辍学": "辍学"},
        ),
        Column("change_date", "变动日期", DATE, required=True),
        Column("school", "学校名称", TEXT, aliases=("学校",)),
    ),
    event_date="change_date",
    description="教育部门学籍变动（义务教育阶段失学辍学）",
    link_unmatched_valid_ids=True,
    # 义务教育阶段失学辍学: a dropout (or a return to school) in 小学/初中.
    facts=(
        FactMap(
            "person",
            "out_of_school",
            "status",
            "out_of_school",
            when={"stage": ("小学", "初中"), "status": ("辍学", "在读")},
            value_map={"辍学": "是", "在读": "否"},
            registry_map={"true": "是", "false": "否"},
        ),
    ),  # fmt: skip
)
