"""民政 低保/特困/孤儿 rosters with their changes."""

from ..base import CHOICE, DATE, MONEY, Column, FactMap, Implied, SourceSpec, person_columns

SPEC = SourceSpec(
    kind="civil",
    title="民政低保特困",
    departments=("民政",),
    columns=(
        *person_columns(),
        Column(
            "scheme",
            "保障类型",
            CHOICE,
            aliases=("救助类型", "保障类别", "救助类别", "对象类别", "人员类别"),
            required=True,
            choices=("低保", "特困", "孤儿"),
            choice_aliases={
                "农村低保": "低保",
                "城市低保": "低保",
                "城乡低保": "低保",
                "低保对象": "低保",
                "低保户": "低保",
                "农村特困": "特困",
                "城市特困": "特困",
                "特困供养": "特困",
                "农村特困供养": "特困",
                "分散供养": "特困",
                "集中供养": "特困",
                "特困人员": "特困",
                "孤儿": "孤儿",
                "事实无人抚养儿童": "孤儿",
            },  # fmt: skip
        ),
        Column(
            "status",
            "变动情况",
            CHOICE,
            aliases=("保障状态", "状态", "变动类型", "救助状态"),
            required=True,
            choices=("新增", "在保", "停保"),
            choice_aliases={
                "取消": "停保",
                "退出": "停保",
                "停发": "停保",
                "终止": "停保",
                "纳入": "新增",
                "新纳入": "新增",
                "正常": "在保",
                "正常保障": "在保",
                "保障中": "在保",
            },  # fmt: skip
        ),
        Column(
            "change_date",
            "变动日期",
            DATE,
            aliases=("停保日期", "审批日期", "批准日期", "纳入日期", "审批时间", "起始日期"),
            required=True,
        ),
        Column(
            "amount",
            "月保障金",
            MONEY,
            aliases=("保障金额", "月保障金额", "救助供养金额", "供养金额", "月救助金额"),
        ),
    ),
    event_date="change_date",
    description="民政每月推送低保（一至四类）、特困、孤儿名单及变动",
    link_unmatched_valid_ids=True,
    # a 停保名单 (停保日期) or a 特困供养 roster (供养方式) without the column that says so
    implied=(
        Implied("停保日期", "status", "停保"),
        Implied("停保原因", "status", "停保"),
        Implied("供养方式", "scheme", "特困"),
        Implied("供养形式", "scheme", "特困"),
        Implied("审批日期", "status", "在保"),
        Implied("批准日期", "status", "在保"),
    ),  # fmt: skip
    # The roster does not say 农村/城市 reliably: the registry's 城市低保/城市特困 count as "in the scheme".
    facts=(
        FactMap(
            "person",
            "dibao",
            "status",
            "dibao",
            when={"scheme": ("低保",)},
            value_map={"新增": "农村低保", "在保": "农村低保", "停保": "未享受"},
            registry_map={"城市低保": "农村低保"},
        ),
        FactMap(
            "person",
            "tekun",
            "status",
            "tekun",
            when={"scheme": ("特困",)},
            value_map={"新增": "农村特困", "在保": "农村特困", "停保": "不享受"},
            registry_map={"城市特困": "农村特困"},
        ),
    ),  # fmt: skip
)
