"""Asset registrations (车辆/房产/工商) for 信息比对 red flags."""

from ..base import CHOICE, DATE, MONEY, TEXT, Column, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="assets",
    title="资产登记（车辆/房产/工商）",
    departments=("公安", "自然资源", "市场监管"),
    columns=(
        *person_columns(id_aliases=("所有人证件号码", "登记人身份证号")),
        Column(
            "asset_type",
            "资产类型",
            CHOICE,
            required=True,
            choices=("车辆", "房产", "工商"),
            choice_aliases={
                "机动车": "车辆",
                "商品房": "房产",
                "不动产": "房产",
                "个体工商户": "工商",
                "企业": "工商",
            },
        ),
        Column("reg_date", "登记日期", DATE, required=True),
        Column("detail", "登记信息", TEXT, aliases=("车牌号", "不动产权证号", "统一社会信用代码")),
        Column("value", "价值", MONEY),
    ),
    event_date="reg_date",
    description="车辆（公安车管）、商品房（不动产登记）、个体工商（市场监管）登记，用于信息比对",
    link_unmatched_valid_ids=True,
    consent_scope_column="asset_type",
    consent_scope_values={"车辆": "vehicles", "房产": "property", "工商": "business"},
)
