import pytest

from fangpin.audit.models import AuditEvent
from fangpin.testing import factories as f


@pytest.fixture
def two_households(db):
    a1 = f.household(f.VILLAGE_A1, phone="13812345678")
    f.person(a1, name="王大山", phone="13912345678")
    b1 = f.household(f.VILLAGE_B1)
    f.person(b1, name="李小河")
    return a1, b1


def test_login_required(client):
    r = client.get("/households/")
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_household_file_masks_and_is_audited(client, personas, two_households):
    a1, _ = two_households
    client.force_login(personas["cadre_a1"])
    r = client.get(f"/households/{a1.id}/")
    body = r.content.decode()
    assert r.status_code == 200 and "王大山" in body
    pid = a1.persons.get().id_number
    assert pid not in body and pid[:6] + "********" + pid[-4:] in body
    assert "13912345678" not in body and "139****5678" in body
    ev = AuditEvent.objects.filter(event_type="trust.household_file_view").last()
    assert ev.household_id == a1.id and ev.actor == personas["cadre_a1"]


def test_other_village_is_not_found_by_url_and_not_listed(client, personas, two_households):
    a1, b1 = two_households
    client.force_login(personas["cadre_a1"])
    assert client.get(f"/households/{b1.id}/").status_code == 404
    listing = client.get("/households/").content.decode()
    assert a1.household_no in listing and b1.household_no not in listing
    client.force_login(personas["county_admin"])
    assert client.get(f"/households/{b1.id}/").status_code == 200


def test_department_officer_sees_no_registry(client, personas, two_households):
    a1, _ = two_households
    client.force_login(personas["dept_yibao"])
    assert client.get(f"/households/{a1.id}/").status_code == 404
    assert a1.household_no not in client.get("/households/").content.decode()


def test_mingbaizhi_page_masks_and_respects_scope(client, personas, two_households):
    a1, b1 = two_households
    client.force_login(personas["cadre_a1"])
    body = client.get(f"/households/{a1.id}/mingbaizhi/").content.decode()
    assert "明白纸" in body and "王*山" in body and "王大山" not in body
    assert client.get(f"/households/{b1.id}/mingbaizhi/").status_code == 404


def test_home_lists_my_tasks(client, personas, two_households):
    client.force_login(personas["cadre_a1"])
    r = client.get("/")
    assert r.status_code == 200 and "我的待办" in r.content.decode()
