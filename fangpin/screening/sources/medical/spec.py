"""医保 medical settlements: one row per settlement (visit), 个人自付 after all reimbursements."""

from ..base import CHOICE, DATE, MONEY, TEXT, Column, Implied, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="medical",
    title="医保结算",
    departments=("医保",),
    columns=(
        *person_columns(id_aliases=("参保人身份证号",)),
        Column(
            "settle_date",
            "结算日期",
            DATE,
            aliases=("结算时间", "费用结算日期", "结算日期时间", "报销日期"),
            required=True,
            fallback=("discharge_date",),  # a 住院 list dated by 出院日期
        ),
        Column(
            "visit_type",
            "就诊类型",
            CHOICE,
            aliases=("医疗类别", "就医类型", "就诊类别", "医疗类型", "结算类别"),
            required=True,
            choices=("住院", "门诊", "门特"),
            choice_aliases={
                "普通住院": "住院",
                "住院治疗": "住院",
                "住院结算": "住院",
                "单病种住院": "住院",
                "日间手术": "住院",
                "普通门诊": "门诊",
                "门诊统筹": "门诊",
                "门诊": "门诊",
                "门诊慢特病": "门特",
                "门诊特殊病": "门特",
                "门诊慢性病": "门特",
                "门诊特慢病": "门特",
                "门诊大病": "门特",
            },  # fmt: skip
        ),
        Column("admit_date", "入院日期", DATE, aliases=("入院时间", "入院日期时间")),
        Column("discharge_date", "出院日期", DATE, aliases=("出院时间", "出院日期时间")),
        Column(
            "total_cost", "医疗总费用", MONEY, aliases=("总费用", "医疗费用总额", "医疗费总额", "住院总费用")
        ),
        Column(
            "out_of_pocket",
            "个人自付",
            MONEY,
            aliases=(
                "个人自付费用",
                "个人自付金额",
                "个人负担",
                "个人负担总金额",
                "个人负担金额",
                "个人自付合计",
                "自付金额",
                "政策外自付",
            ),
            required=True,
        ),
        Column(
            "hospital",
            "医疗机构",
            TEXT,
            aliases=("定点医疗机构", "医院名称", "定点医药机构名称", "就诊医院", "医疗机构名称"),
        ),
    ),
    event_date="settle_date",
    description="县医保局每月推送：每次结算的个人自付（基本医保+大病保险+医疗救助之后）",
    # a 住院结算明细 without 医疗类别 (dated by 入院/出院, 住院天数) is an inpatient list
    implied=(Implied("入院日期", "visit_type", "住院"), Implied("住院天数", "visit_type", "住院")),
)
