"""Saved working lists: saved from the household list, shared with the township, re-run in the opener's
own scope (sharing never widens what someone may see)."""

from __future__ import annotations

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError, NotFound
from fangpin.testing import factories as f
from fangpin.worklists import services as wl


@pytest.fixture
def homes(db):
    a1 = f.household(f.VILLAGE_A1, household_type="一般农户")
    f.person(a1, name="张一")
    a2 = f.household(f.VILLAGE_A2, household_type="一般农户")
    f.person(a2, name="张二")
    b1 = f.household(f.VILLAGE_B1, household_type="一般农户")
    f.person(b1, name="张三")
    return a1, a2, b1


def test_save_from_the_list_and_share_with_the_township(client, personas, homes):
    a1, a2, b1 = homes
    client.force_login(personas["cadre_a1"])
    r = client.post(
        "/households/worklists/",
        {
            "name": "一般农户",
            "qs": "household_type=一般农户&sort=-household_no&cols=household_no,head",
            "share": "1",
        },
    )
    saved = wl.worklist_list(actor=personas["cadre_a1"]).get()
    assert saved.params == {"household_type": "一般农户", "sort": "-household_no"}
    assert saved.columns == ["household_no", "head"] and saved.shared_township == f.TOWNSHIP_A
    assert AuditEvent.objects.filter(event_type="worklists.save").exists()
    opened = client.get(r["Location"], follow=True).content.decode()
    assert a1.household_no in opened and "<th>行政村</th>" not in opened  # only the saved columns
    # a colleague of the same township sees it and opens it in *their* scope
    client.force_login(personas["cadre_a2"])
    body = client.get(f"/households/worklists/{saved.id}/", follow=True).content.decode()
    assert a2.household_no in body and a1.household_no not in body
    # another township does not see it at all
    with pytest.raises(NotFound):
        wl.worklist_get(actor=personas["cadre_b1"], worklist_id=saved.id)


def test_names_are_required_and_unique_and_county_users_cannot_share(personas, homes):
    with pytest.raises(DomainError) as e:
        wl.worklist_save(actor=personas["cadre_a1"], name=" ", params={}, columns=None)
    assert e.value.field == "name"
    wl.worklist_save(actor=personas["cadre_a1"], name="重点户", params={}, columns=None)
    with pytest.raises(DomainError, match="已有名为"):
        wl.worklist_save(actor=personas["cadre_a1"], name="重点户", params={}, columns=None)
    with pytest.raises(DomainError, match="只有乡镇和村级用户"):
        wl.worklist_save(actor=personas["county_admin"], name="全县", params={}, columns=None, share=True)


def test_command_exports_a_saved_list_in_the_users_scope(personas, homes, tmp_path):
    from django.core.management import call_command

    a1, a2, b1 = homes
    saved = wl.worklist_save(
        actor=personas["township_a"], name="一般户", params={"household_type": "一般农户"}, columns=None
    )
    out = tmp_path / "list.csv"
    call_command("worklist", "export", str(saved.id), str(out), "--as", "township_a")
    text = out.read_text(encoding="utf-8-sig")
    assert a1.household_no in text and a2.household_no in text and b1.household_no not in text
    ev = AuditEvent.objects.filter(event_type="registry.export").last()
    assert ev.data["filters"] == {"household_type": "一般农户"} and ev.data["households"] == 2
