"""A self-application on a phone with the photo of the signed 承诺授权书: the receipt shows a 受理编号 that a
household can look up without an account."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def test_self_application_with_photo_and_public_lookup(page_as, e2e_server, shoot):
    page = page_as("village_cadre", phone=True)
    page.goto("/apply/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(page, "selfapply-form")
    page.select_option("#household_id", index=1)
    page.fill("#applicant", "杜保国")
    page.check("input[name=risk_types][value=因病]")
    page.fill("#difficulties", "户主住院，自付费用较多")
    page.set_input_files("#photo", str(DATA / "承诺授权书.jpg"))
    page.fill("#signed_by_name", "杜保国")
    page.click("#submit-apply")
    page.wait_for_selector("#ack-no")
    ack = page.locator("#ack-no").inner_text().strip()
    assert ack.startswith("SQ") and len(ack) == 16
    assert page.locator("#ack-status").inner_text() == "待核实"
    shoot(page, "selfapply-receipt")
    out = e2e_server.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from fangpin.monitoring.models import LeadSource\n"
        f"s = LeadSource.objects.get(source_ref={ack!r})\n"
        "from fangpin.trust.models import Consent\n"
        "c = Consent.objects.filter(household=s.lead.household).latest('id')\n"
        "ids = [p.id_number for p in s.lead.household.persons.filter(is_member=True) if p.id_number]\n"
        "print('T', ids[0][-4:], bool(c.evidence_path))",
    ).stdout
    tail, has_photo = next(line.split()[1:] for line in out.splitlines() if line.startswith("T "))
    assert has_photo == "True"

    public = page_as(None, phone=True)
    public.goto("/apply/lookup/")
    public.fill("#ack_no", ack)
    public.fill("#id_tail", tail)
    public.click("#lookup-form button")
    public.wait_for_selector("#lookup-result")
    assert "待核实" in public.locator("#lookup-result").inner_text()
    shoot(public, "selfapply-lookup")
