"""A visit logged on a phone with no connection, kept through a reload, and synced after reconnect; a send
that fails is never reported as sent."""

from __future__ import annotations

import time


def _until(page, expression: str, timeout: int = 15000) -> None:
    """Waits until ``expression`` is true in the page. Polled through ``page.evaluate`` (DevTools, not subject
    to the page's Content-Security-Policy), because ``wait_for_function`` evaluates its predicate with
    ``eval``, which the application's CSP (no 'unsafe-eval') rightly refuses."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(f"() => !!({expression})"):
        if time.monotonic() > deadline:
            outbox = page.evaluate("() => (document.querySelector('#outbox-list') || {}).innerText || ''")
            raise AssertionError(f"timed out waiting for: {expression}; the outbox says: {outbox[:500]}")
        time.sleep(0.1)


def _visited_today(e2e_server) -> set[str]:
    """Households with a visit on the server's today (another test, e.g. the risk list's, may have made one:
    a second visit the same day is rightly held as a conflict)."""
    out = e2e_server.manage(
        "shell", "-v", "0", "-c",
        "from fangpin.core import clock\nfrom fangpin.monitoring.models import Visit\n"
        "for h in Visit.objects.filter(visited_on=clock.today()).values_list('household_id', flat=True): print('H', h)",
    ).stdout  # fmt: skip
    return {line[2:] for line in out.splitlines() if line.startswith("H ")}


def _fill_visit(page, *, problem: str = "health", household: str | None = None, server=None) -> str:
    if household:
        page.select_option("#household_id", household)
    else:  # the first household of the list not visited today
        taken = _visited_today(server) if server is not None else set()
        values = page.locator("#household_id option").evaluate_all("os => os.map(o => o.value)")
        page.select_option("#household_id", next(v for v in values[1:] if v and v not in taken))
    chosen = page.locator("#household_id").input_value()
    for aspect in page.locator("[data-aspect]").all():
        code = aspect.get_attribute("data-aspect")
        value = "problem" if code == problem else "ok"
        aspect.locator(f"input[value={value}]").check()
    page.fill(f"input[name=note_{problem}]", "户主腰伤，近期无法务工")
    page.fill("#note", "离线走访测试")
    page.click("#save-visit")
    return chosen


def _count(page) -> str:
    return page.locator("#outbox-count").inner_text()


def _server_visits(e2e_server, note: str) -> list[str]:
    out = e2e_server.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from fangpin.monitoring.models import Visit\n"
        f"for v in Visit.objects.filter(note={note!r}): print('V', v.pk, v.client_key)",
    ).stdout
    return [line[2:] for line in out.splitlines() if line.startswith("V ")]


def test_offline_visit_is_kept_and_synced_after_reconnect(page_as, e2e_server, shoot):
    page = page_as("village_cadre", phone=True)
    page.goto("/visits/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker, which has cached the page
    _until(page, "navigator.serviceWorker.controller !== null")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(page, "visits-form")

    page.context.set_offline(True)
    _fill_visit(page, server=e2e_server)
    _until(page, "document.querySelector('#outbox-count').textContent === '1'")
    _until(page, "document.querySelector('#outbox-list').textContent.includes('当前离线')")
    assert page.locator("#net-state").inner_text() == "离线"
    assert _server_visits(e2e_server, "离线走访测试") == []

    page.reload()  # offline: the service worker serves the cached page; the outbox is still there
    _until(page, "document.querySelector('#outbox-count').textContent === '1'")
    shoot(page, "visits-offline-outbox")

    page.context.set_offline(False)
    _until(page, "document.querySelector('#outbox-count').textContent === '0'", timeout=20000)
    sent = page.locator("#sent-list").inner_text()
    rows = _server_visits(e2e_server, "离线走访测试")
    assert len(rows) == 1
    visit_id, key = rows[0].split()
    assert f"记录号 {visit_id}" in sent and len(key) >= 8
    shoot(page, "visits-synced")


def test_failed_send_stays_queued_and_is_retried(page_as, e2e_server):
    page = page_as("village_cadre", phone=True)
    page.goto("/visits/")
    page.route("**/visits/sync/", lambda route: route.fulfill(status=502, body="Bad Gateway"))
    _fill_visit(page, problem="income", server=e2e_server)
    _until(page, "document.querySelector('#outbox-count').textContent === '1'")
    _until(page, "document.querySelector('#outbox-list').textContent.includes('发送失败')")
    assert "记录号" not in page.locator("#outbox-list").inner_text()
    page.wait_for_timeout(500)
    assert _count(page) == "1"  # still queued: a 502 is not a success
    page.unroute("**/visits/sync/")
    page.click("#sync-now")
    _until(page, "document.querySelector('#outbox-count').textContent === '0'", timeout=20000)


def test_same_day_conflict_is_kept_and_shown_until_the_cadre_decides(page_as, e2e_server):
    page = page_as("village_cadre", phone=True)
    page.goto("/visits/")
    household = _fill_visit(page, problem="water", server=e2e_server)  # a household not visited today
    _until(page, "document.querySelector('#outbox-count').textContent === '0'", timeout=20000)
    page.reload()
    _fill_visit(page, problem="water", household=household)  # the same household, the same day, again
    page.wait_for_selector("#outbox-list li.ob-conflict")
    item = page.locator("#outbox-list li.ob-conflict")
    assert "已有记录" in item.inner_text() and _count(page) == "1"
    item.locator("button[data-act=keep]").click()
    _until(page, "document.querySelector('#outbox-count').textContent === '0'")
