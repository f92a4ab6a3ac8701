"""The household file's member and source tables, written out by ``member_rows`` / ``source_rows``
(web_extras): the same HTML as the template loops they replace, escaping and 待核实 included."""

from __future__ import annotations

from django.template import Context, Template
from django.utils.safestring import mark_safe

from fangpin.trust.selectors import FieldView

# the loops as file.html had them before the tags
MEMBERS_LOOP = (
    '{% for m in members %}<tr>{% for fv in m.cols %}<td data-label="{{ fv.label }}" title="来源：{{ fv.source }} '
    '{{ fv.source_ref }} {{ fv.since }}">{{ fv.value }}{% if fv.pending %} <span class="tag warn" title="待核实：'
    '{% for p in fv.pending %}{{ p.source }} {{ p.value }}；{% endfor %}">待核实</span>{% endif %}</td>{% endfor %}'
    "</tr>{% endfor %}"
)
FIELDS_LOOP = (
    "{% for fv in fields %}<tr><td>{{ fv.label }}</td><td>{{ fv.value }}</td><td>{{ fv.source }}</td>"
    "<td>{{ fv.source_ref }}</td><td>{{ fv.since }}</td></tr>{% endfor %}"
)
MEMBER_SOURCES_LOOP = (
    '{% for m in members %}{% for fv in m.cols %}{% if fv.value %}<tr><td>{{ m.person.name|default:"" }}·'
    "{{ fv.label }}</td><td>{{ fv.value }}</td><td>{{ fv.source }}</td><td>{{ fv.source_ref }}</td>"
    "<td>{{ fv.since }}</td></tr>{% endif %}{% endfor %}{% endfor %}"
)


class _P:
    def __init__(self, name):
        self.name = name


def _context() -> dict:
    fv = FieldView
    a = [
        fv("name", "姓名", "张<三>", "村级采集", 'ref"1', "2025-01-02"),
        fv(
            "phone",
            "联系电话",
            "138****0001",
            "部门比对",
            "",
            "2025-02-03",
            pending=[
                {
                    "value": "139&0000",
                    "source": "民政<局>",
                    "source_ref": "",
                    "since": "",
                    "discrepancy_id": "1",
                },
                {"value": "", "source": "'医保'", "source_ref": "", "since": "", "discrepancy_id": "2"},
            ],
        ),
        fv("health", "健康状况", "", "村级采集", "", ""),
    ]
    b = [fv("name", "姓名", "李四", "导入", "x", "2024-12-31")]
    return {
        "members": [
            {"person": _P("张<三>"), "cols": a},
            {"person": _P(None), "cols": b},
            {"person": _P(""), "cols": []},
        ],
        "fields": [
            *a,
            fv("address", "住址", "A & B", "导入", "<r>", ""),
            # not a plain str: a safe string printed as it is, a number localised, None as Django prints it
            fv("note", mark_safe("<b>标</b>"), 1234567, "导入", None, 2.5),  # noqa: S308 - a test value
        ],
    }


def test_member_rows_print_what_the_loops_printed():
    ctx = _context()
    old = Template(MEMBERS_LOOP).render(Context(ctx))
    new = Template("{% load web_extras %}{% member_rows members %}").render(Context(ctx))
    assert new == old
    assert "张&lt;三&gt;" in new and "民政&lt;局&gt; 139&amp;0000；" in new and "&#x27;医保&#x27; ；" in new


def test_source_rows_print_what_the_loops_printed():
    ctx = _context()
    old = Template(FIELDS_LOOP + "|" + MEMBER_SOURCES_LOOP).render(Context(ctx))
    new = Template("{% load web_extras %}{% source_rows fields %}|{% source_rows None members %}").render(
        Context(ctx)
    )
    assert new == old
    assert (
        "<td>·姓名</td><td>李四</td>" in new and "健康状况" not in new.split("|")[1]
    )  # empty values left out


TIMELINE_LOOP = (
    '{% for e in timeline %}<li class="k-{{ e.kind }}"><span class="when">{{ e.on|date:"Y-m-d" }}</span>'
    "{% if e.link_case %}<a href=\"{% url 'web:case' e.link_case %}\">{{ e.title }}</a>{% else %}{{ e.title }}"
    '{% endif %}{% if e.detail %} <span class="muted">{{ e.detail }}</span>{% endif %}{% if e.who %} '
    '<span class="muted">· {{ e.who }}</span>{% endif %}</li>\n{% empty %}<li>暂无记录</li>{% endfor %}'
)


def test_timeline_items_print_what_the_loop_printed():
    import datetime as dt

    from fangpin.trust.timeline import TimelineEntry as E

    timeline = [
        E(dt.date(2025, 3, 9), "case", "入户核查 <完成>", '结论："符合" & 纳入', "张<三>", link_case=42),
        E(dt.date(2025, 1, 2), "lead", "线索", "", "", link_case=0),
        E(dt.date(2024, 12, 31), "visit", "走访", "无风险", ""),
        E(dt.date(2024, 2, 29), "consent", "授权'书'", "", "村委"),
    ]
    for items in (timeline, []):
        old = Template(TIMELINE_LOOP).render(Context({"timeline": items}))
        new = Template("{% load web_extras %}{% timeline_items timeline %}").render(
            Context({"timeline": items})
        )
        assert new == old
    new = Template("{% load web_extras %}{% timeline_items timeline %}").render(
        Context({"timeline": timeline})
    )
    assert '<a href="/cases/42/">入户核查 &lt;完成&gt;</a>' in new and "授权&#x27;书&#x27;" in new
