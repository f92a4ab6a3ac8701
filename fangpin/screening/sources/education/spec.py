"""教育 enrolment and dropout (学籍)."""

from ..base import CHOICE, DATE, TEXT, Column, FactMap, Implied, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="education",
    title="教育学籍",
    departments=("教育",),
    columns=(
        *person_columns(id_aliases=("学生身份证号", "学生身份证号码", "身份证件号码")),
        Column(
            "stage",
            "学段",
            CHOICE,
            aliases=("就读学段", "学段类别"),
            required=True,
            choices=("学前", "小学", "初中", "高中", "中职", "高职", "本科"),
            # a dropout list gives the 年级 only: 三年级 → 小学, 八年级/初二 → 初中, 高一 → 高中
            choice_aliases={
                **{f"{g}年级": "小学" for g in "一二三四五六"},
                **{f"{g}年级": "初中" for g in "七八九"},
                **{f"初{g}": "初中" for g in "一二三"},
                **{f"高{g}": "高中" for g in "一二三"},
                **{f"{g}年级": "小学" for g in "123456"},
                **{f"{g}年级": "初中" for g in "789"},
                "幼儿园": "学前",
                "小学阶段": "小学",
                "初中阶段": "初中",
                "普通高中": "高中",
            },  # fmt: skip
            fallback=("school_grade",),
        ),
        Column(
            "status",
            "学籍状态",
            CHOICE,
            required=True,
            choices=("在读", "辍学", "休学", "毕业", "转出"),
            aliases=("在校状态", "学籍状况", "就学状态"),
            choice_aliases={
                "失学": "辍学",
                "失学辍学": "辍学",
                "辍学失学": "辍学",
                "在校": "在读",
                "在籍在读": "在读",
                "复学": "在读",
                "劝返复学": "在读",
                "已复学": "在读",
            },  # fmt: skip
        ),
        Column(
            "change_date",
            "变动日期",
            DATE,
            aliases=("学籍变动日期", "辍学日期", "辍学时间", "失学日期", "复学日期"),
            required=True,
        ),
        Column("school", "学校名称", TEXT, aliases=("学校", "就读学校", "原就读学校")),
        Column("school_grade", "年级", TEXT, aliases=("就读年级", "所在年级", "原就读年级")),
        Column("note", "辍学原因", TEXT, aliases=("原因", "失学辍学原因", "备注")),
    ),
    event_date="change_date",
    description="教育部门学籍变动（义务教育阶段失学辍学）",
    link_unmatched_valid_ids=True,
    # a 控辍保学 dropout list (辍学日期, no 学籍状态): every row is a dropout
    implied=(
        Implied("辍学日期", "status", "辍学"),
        Implied("辍学时间", "status", "辍学"),
        Implied("失学日期", "status", "辍学"),
        Implied("复学日期", "status", "在读"),
    ),  # fmt: skip
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
