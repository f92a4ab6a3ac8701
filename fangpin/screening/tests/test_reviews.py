"""Uncertain links go to a review queue; reviewers' decisions are reused by later runs."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.core.errors import DomainError, NotFound
from fangpin.policy.params import parameter_set
from fangpin.screening.models import LinkReview, ReviewStatus, ScreeningHit
from fangpin.screening.selectors import link_review_queue
from fangpin.screening.services.reviews import E_DECIDED, link_review_decide
from fangpin.screening.services.runs import screening_run_start

from .test_month_end_to_end import MONTH, _setup

# near-certainty demanded for automatic links: most linked planted records then need a reviewer
ACCEPT = 1 - 1e-13


RUN_ON = dt.date(2025, 6, 30)  # the runs' business date: the end of the screened month


@pytest.mark.django_db
def test_review_queue_and_decisions_reused(tmp_path, personas, officer, monitored):
    gen = _setup(tmp_path, personas, officer, monitored)
    admin = personas["county_admin"]
    # demand near-certainty for automatic links: the linked planted records now need a reviewer
    parameter_set(actor=admin, key="screening.linkage.accept_probability", value=ACCEPT, year=2025)
    # record_facts=False: run 1 must not apply 公安/残联 facts, or run 2 would rightly find fewer changes
    run1 = screening_run_start(actor=admin, month=MONTH, record_facts=False, on=RUN_ON)
    linked_variants = {"missing", "homophone", "scientific", "mistyped"}
    needs_link = {(p.rule, p.person_id) for p in gen.planted if p.id_variant in linked_variants}
    found1 = set(ScreeningHit.objects.filter(run=run1).values_list("rule_code", "person_id"))
    pending = LinkReview.objects.filter(status=ReviewStatus.PENDING)
    candidates = set(pending.values_list("candidate_id", flat=True))
    held_back = {k for k in needs_link if k[1] in candidates}
    assert held_back and found1 == gen.expected - held_back

    queue = link_review_queue(actor=admin)
    assert {q["candidate"]["person_id"] for q in queue} == candidates
    item = queue[0]
    assert 0.5 <= pending.get(pk=item["id"]).probability < ACCEPT and item["agreeing"]  # the queue rounds
    assert "*" in item["candidate"]["id_number"]  # masked
    cadre = personas["cadre_b1"]
    mine = link_review_queue(actor=cadre)
    assert all(pending.get(pk=q["id"]).candidate.household.village_id == "410506100201" for q in mine)
    other = pending.exclude(candidate__household__village_id="410506100201").first()
    with pytest.raises(NotFound):
        link_review_decide(actor=cadre, review_id=other.pk, accept=True)

    reject = pending.order_by("id").first()
    link_review_decide(actor=admin, review_id=reject.pk, accept=False, note="同名不同人")
    for r in LinkReview.objects.filter(status=ReviewStatus.PENDING):
        link_review_decide(actor=admin, review_id=r.pk, accept=True)
    with pytest.raises(DomainError) as e:
        link_review_decide(actor=admin, review_id=reject.pk, accept=True)
    assert e.value.code == E_DECIDED

    run2 = screening_run_start(actor=admin, month=MONTH, on=RUN_ON)
    found2 = set(ScreeningHit.objects.filter(run=run2).values_list("rule_code", "person_id"))
    rejected = {k for k in held_back if k[1] == reject.candidate_id}
    assert found2 == gen.expected - rejected
    assert not LinkReview.objects.filter(first_run=run2).exists()  # nothing asked twice
