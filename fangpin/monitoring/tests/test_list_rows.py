"""The household list's page rows as dicts (``list_rows.household_row_values``, SQL compiled once per page
length) are what the model rows of ``household_search.household_rows`` say, field by field, for any ids in
any order; and the browser's rows made in Python (``web.views.households.list_rows_html``) are byte for byte
what the template loop they replaced rendered from the model rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template

from fangpin.core.masking import mask_phone
from fangpin.monitoring import household_search as hs
from fangpin.monitoring import list_rows
from fangpin.monitoring.models import MonitoringObject, ObjectStatus
from fangpin.registry.models import Household
from fangpin.testing import factories as f
from fangpin.web.views.households import list_rows_html
from fangpin.worklists.services import COLUMNS

pytestmark = pytest.mark.django_db


@pytest.fixture
def households(db):
    out = []
    a = f.household(f.VILLAGE_A1, household_type="一般农户", phone="13800001111")  # its own phone
    f.person(a, name="欧阳春花", phone="13912345678")
    f.person(a, name="欧阳小明", relation="之子")
    out.append(a)
    b = f.household(f.VILLAGE_A2)  # no phone of its own: the 户主's; an active object
    f.person(b, name="李<四>", phone="13700002222")
    MonitoringObject.objects.create(
        household=b, category="边缘易致贫户", identified_on=dt.date(2024, 5, 1), origin="procedure"
    )
    out.append(b)
    out.append(f.household(f.VILLAGE_A1))  # nobody: no 户主, no members, no phone
    d = f.household(f.VILLAGE_B1)  # a former member only; objects: eliminated, then a later revoked one
    f.person(d, name="王五", is_member=False)
    MonitoringObject.objects.create(
        household=d,
        category="脱贫不稳定户",
        identified_on=dt.date(2023, 1, 1),
        origin="procedure",
        status=ObjectStatus.ELIMINATED,
    )
    MonitoringObject.objects.create(
        household=d,
        category="突发严重困难户",
        identified_on=dt.date(2024, 1, 1),
        origin="procedure",
        status=ObjectStatus.REVOKED,
    )
    out.append(d)
    e = f.household(f.VILLAGE_A2, phone="")  # a 户主 without a phone
    f.person(e, name="赵六")
    out.append(e)
    return out


def model_row(hh: Household) -> dict:
    head = hh.heads[0] if hh.heads else None
    return {
        "id": hh.id,
        "household_no": hh.household_no,
        "village_id": hh.village_id,
        "village_name": hh.village.name,
        "household_type": hh.household_type,
        "status": hh.status,
        "phone": hh.phone,
        "contact_phone": hh.phone or (head.phone if head else None),
        "n_members": hh.n_members,
        "mo_status": hh.mo_status,
        "mo_category": hh.mo_category,
        "head_name": head.name if head else None,
    }


def test_the_rows_are_what_the_model_rows_say_for_any_ids_in_any_order(households):
    want = {h.id: model_row(h) for h in hs.household_rows(Household.objects.all())}
    ids = [h.id for h in households]
    assert want[ids[1]]["mo_status"] == ObjectStatus.ACTIVE and want[ids[3]]["mo_status"] == "eliminated"
    for page in (ids, ids[::-1], ids[1:4], ids[2:5], [ids[4], ids[0]], [ids[3]], [ids[0], 10**9, ids[2]]):
        got = list_rows.household_row_values(page)  # same lengths twice: the compiled SQL is reused
        assert got == [want[i] for i in page if i in want]
    assert list_rows.household_row_values([]) == []


def test_the_page_of_the_two_steps_is_the_slice_of_the_model_rows(households):
    qs = Household.objects.all()
    for sort in hs.SORTS:
        everything = [model_row(h) for h in hs.household_rows(qs, sort=sort)]
        for offset, limit in ((0, 2), (2, 2), (4, 2), (1, 10)):
            page = hs.household_page_rows(qs, sort=sort, offset=offset, limit=limit, values=True)
            assert page == everything[offset : offset + limit]


# The template loop the rows replaced (web/households/list.html before session 7), with its view's rows.
OLD_ROWS = Template(
    """{% for r in rows %}<tr>{% for c in columns %}{% if c == "household_no" %}<td data-label="户编号"><a href="{% url 'web:household' r.hh.id %}">{{ r.hh.household_no }}</a></td>
{% elif c == "head" %}<td data-label="户主">{{ r.head }}</td>{% elif c == "village" %}<td data-label="行政村">{{ r.hh.village.name }}</td>{% elif c == "type" %}<td data-label="户类型">{{ r.hh.household_type }}</td>
{% elif c == "members" %}<td data-label="人口" class="num">{{ r.hh.n_members }}</td>
{% elif c == "monitoring" %}<td data-label="监测状态">{% if r.mo %}<span class="tag{% if r.hh.mo_status == 'active' %} warn{% endif %}">{{ r.mo }}{% if r.hh.mo_status == 'active' %}·{{ r.hh.mo_category }}{% endif %}</span>{% endif %}</td>
{% elif c == "phone" %}<td data-label="联系电话">{{ r.phone }}</td>{% endif %}{% endfor %}</tr>
{% empty %}<tr><td colspan="{{ columns|length }}">没有符合条件的户</td></tr>{% endfor %}"""
)


def old_rows(households: list[Household]) -> list[dict]:
    rows = []
    for hh in households:
        head = hh.heads[0] if hh.heads else None
        rows.append(
            {
                "hh": hh,
                "head": head.name if head else "",
                "phone": mask_phone(hh.phone or (head.phone if head else "")),
                "mo": dict(ObjectStatus.choices).get(hh.mo_status, "") if hh.mo_status else "",
            }
        )
    return rows


@pytest.mark.parametrize(
    "columns",
    [list(COLUMNS), ["phone", "head", "household_no"], ["monitoring"], ["members", "type", "village"]],
)
def test_the_rows_made_in_python_are_the_template_loop_s_bytes(households, columns):
    models = list(hs.household_rows(Household.objects.all()))
    ids = [h.id for h in models]
    new = list_rows_html(list_rows.household_row_values(ids), columns)
    old = OLD_ROWS.render(Context({"rows": old_rows(models), "columns": columns}))
    assert new == old
    assert "李&lt;四&gt;" in new or "head" not in columns  # escaped like the template
    assert "·边缘易致贫户" in new or "monitoring" not in columns
    empty = OLD_ROWS.render(Context({"rows": [], "columns": columns}))
    assert list_rows_html([], columns) == empty
