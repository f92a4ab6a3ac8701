from __future__ import annotations

import html

from django import template
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from fangpin.audit.event_names import event_name
from fangpin.screening.sources import SOURCES
from fangpin.trust.consent_scopes import SCOPE_LABELS
from fangpin.trust.timeline import step_name

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ names|get_item:code }}``: a dict lookup with a variable key."""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key


@register.filter
def case_step(case) -> str:
    """``{{ case|case_step }}``: the name of the case's current step in its own procedure (a code such as
    ``verify`` is 入户核查 in an identification and 入户核实 in an elimination)."""
    return step_name(case.kind, case.current_step) if case.current_step else ""


@register.filter
def source_title(kind: str) -> str:
    """``{{ batch.kind|source_title }}``: a department data kind by its Chinese title (medical → 医保结算)."""
    spec = SOURCES.get(kind)
    return spec.title if spec else kind


@register.filter
def source_column(name: str, kind: str) -> str:
    """``{{ column|source_column:kind }}``: a column of a department data kind by its title (out_of_pocket →
    个人自付)."""
    spec = SOURCES.get(kind)
    return next((c.title for c in spec.columns if c.name == name), name) if spec else name


@register.filter
def consent_scope_title(scope: str) -> str:
    """``{{ rule.consent_scope|consent_scope_title }}``: a 承诺授权书 scope in words (assets → 存款等金融资产)."""
    return SCOPE_LABELS.get(scope, scope)


@register.filter(name="event_name")
def event_name_filter(event_type: str) -> str:
    """``{{ ev.event_type|event_name }}``: an audit event type in words (accounts.login → 登录成功)."""
    return event_name(event_type)


@register.filter
def pct(value):
    """``{{ 0.1234|pct }}`` → 12.3%; None → —."""
    return "—" if value is None else f"{float(value):.1%}"


def _text(value) -> str:
    """A value as ``{{ value }}`` prints it (localised, escaped). A plain ``str`` (most cells) is printed as
    Django prints it — ``localize`` leaves it as it is, ``conditional_escape`` is ``html.escape`` of it —
    without the two calls' type dispatch (a household file prints ~300 such values)."""
    if type(value) is str:
        return html.escape(value)
    return conditional_escape(localize(value))


@register.simple_tag
def member_rows(members) -> str:
    """The household file's members table body, one row per member and one cell per column: its value, its
    source in the title, and 待核实 with the values waiting. Written out here, not with nested template loops
    (a third of the page's rendering), printing exactly what those printed."""
    out = []
    for m in members:
        out.append("<tr>")
        for fv in m["cols"]:
            pending = ""
            if fv.pending:
                waiting = "".join(f"{_text(p['source'])} {_text(p['value'])}；" for p in fv.pending)
                pending = f' <span class="tag warn" title="待核实：{waiting}">待核实</span>'
            out.append(
                f'<td data-label="{_text(fv.label)}" title="来源：{_text(fv.source)} {_text(fv.source_ref)} '
                f'{_text(fv.since)}">{_text(fv.value)}{pending}</td>'
            )
        out.append("</tr>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag
def source_rows(fields, members=None) -> str:
    """Rows of the household file's 数据来源 table: the household's fields, or (``members``) each member's
    filled-in fields named 「姓名·项目」. As ``member_rows``: what the template loops printed."""
    out = []
    if members is None:
        for fv in fields:
            out.append(
                f"<tr><td>{_text(fv.label)}</td><td>{_text(fv.value)}</td><td>{_text(fv.source)}</td>"
                f"<td>{_text(fv.source_ref)}</td><td>{_text(fv.since)}</td></tr>"
            )
        return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
    for m in members:
        name = _text(m["person"].name or "")
        for fv in m["cols"]:
            if fv.value:
                out.append(
                    f"<tr><td>{name}·{_text(fv.label)}</td><td>{_text(fv.value)}</td><td>{_text(fv.source)}</td>"
                    f"<td>{_text(fv.source_ref)}</td><td>{_text(fv.since)}</td></tr>"
                )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag
def timeline_items(timeline) -> str:
    """The household file's timeline items (newest first), or 暂无记录: what the template loop printed, one
    ``<li>`` a line, the business date as ``|date:"Y-m-d"``, a case's title linked to it."""
    from django.template.defaultfilters import date as date_filter
    from django.urls import reverse

    if not timeline:
        return mark_safe("<li>暂无记录</li>")  # noqa: S308 - a constant
    out = []
    for e in timeline:
        title = _text(e.title)
        if e.link_case:
            title = f'<a href="{_text(reverse("web:case", args=[e.link_case]))}">{title}</a>'
        detail = f' <span class="muted">{_text(e.detail)}</span>' if e.detail else ""
        who = f' <span class="muted">· {_text(e.who)}</span>' if e.who else ""
        out.append(
            f'<li class="k-{_text(e.kind)}"><span class="when">{_text(date_filter(e.on, "Y-m-d"))}</span>'
            f"{title}{detail}{who}</li>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
