"""医保 medical settlements: one row per settlement (visit), 个人自付 after all reimbursements."""

from ..base import CHOICE, DATE, MONEY, TEXT, Column, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="medical",
    title="医保结算",
    departments=("医保",),
    columns=(
        *person_columns(id_aliases=("参保人身份证号",)),
        Column("settle_date", "结算日期", DATE, aliases=("结算时间", "费用结算日期"), required=True),
        Column(
            "visit_type",
            "就诊类型",
            CHOICE,
            aliases=("医疗类别", "就医类型"),
            required=True,
            choices=("住院", "门诊", "门特"),
            choice_aliases={"普通住院": "住院", "住院治疗": "住院", "普通门诊": "门诊", "门诊慢特病": "门特"},
        ),
        Column("admit_date", "入院日期", DATE, aliases=("入院时间",)),
        Column("discharge_date", "出院日期", DATE, aliases=("出院时间",)),
        Column("total_cost", "医疗总费用", MONEY, aliases=("总费用", "医疗费用总额")),
        Column(
            "out_of_pocket",
            "个人自付",
            MONEY,
            aliases=("个人自付费用", "个人负担", "个人自付金额", "政策外自付"),
            required=True,
        ),
        Column("hospital", "医疗机构", TEXT, aliases=("定点医疗机构", "医院名称")),
    ),
    event_date="settle_date",
    description="县医保局每月推送：每次结算的个人自付（基本医保+大病保险+医疗救助之后）",
)
