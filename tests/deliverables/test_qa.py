"""Provider QA: pass to the client or return to the analyst; nobody checks their own work."""

from datetime import timedelta

import pytest

from deliverables import services
from deliverables.choices import DeliverableStatus, ReviewKind, SlaState
from deliverables.models import Review
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, InvalidTransition

S = DeliverableStatus


def test_a_qa_pass_puts_the_version_in_front_of_the_client(users, deliverable_in):
    item = deliverable_in(S.IN_QA)

    review = services.deliverable_qa(
        actor=users.bio_qa, deliverable=item, decision="pass", comment="Tables reconcile."
    )

    item.refresh_from_db()
    assert item.status == S.IN_REVIEW
    assert item.delivered_at is not None
    assert item.review_started_at == item.delivered_at
    assert review.kind == ReviewKind.QA
    assert review.decision == "pass"
    assert review.reviewer == users.bio_qa
    assert review.submission.version == 1
    assert review.comment == "Tables reconcile."


def test_delivered_by_the_due_time_is_met(users, deliverable_in):
    item = deliverable_in(S.IN_QA, due_in=timedelta(hours=2))

    services.deliverable_qa(actor=users.bio_qa, deliverable=item, decision="pass")

    item.refresh_from_db()
    assert item.delivered_at <= item.due_at
    assert item.sla_state == SlaState.MET


def test_delivered_after_the_due_time_is_missed(users, deliverable, pdf):
    late = deliverable("Data cleaning log")
    services.deliverable_submit(actor=users.bio_analyst, deliverable=late, file=pdf())

    services.deliverable_qa(actor=users.bio_qa, deliverable=late, decision="pass")

    late.refresh_from_db()
    assert late.delivered_at > late.due_at
    assert late.sla_state == SlaState.MISSED


def test_the_delivery_time_is_set_once_and_kept_through_later_versions(users, deliverable, pdf):
    interim = deliverable("Interim efficacy report")
    first_delivery, first_review_start = interim.delivered_at, interim.review_started_at
    assert interim.current_version == 2
    services.deliverable_review(
        actor=users.alpha_manager, deliverable=interim, decision="request_changes"
    )
    services.deliverable_submit(actor=users.bio_analyst, deliverable=interim, file=pdf())

    services.deliverable_qa(actor=users.bio_qa, deliverable=interim, decision="pass")

    interim.refresh_from_db()
    assert interim.current_version == 3
    assert interim.delivered_at == first_delivery
    assert interim.review_started_at > first_review_start


def test_a_qa_return_sends_the_work_back_to_the_analyst(users, deliverable_in):
    item = deliverable_in(S.IN_QA)

    services.deliverable_qa(
        actor=users.bio_qa, deliverable=item, decision="return", comment="Check the N."
    )

    item.refresh_from_db()
    assert item.status == S.CHANGES_REQUESTED
    assert item.delivered_at is None
    assert item.sla_state == SlaState.ON_TRACK


def test_nobody_checks_their_own_submission(users, deliverable, pdf, snapshot):
    memo = deliverable("Safety signal memo")
    services.deliverable_submit(actor=users.bio_lead, deliverable=memo, file=pdf())
    before = snapshot(memo)

    with pytest.raises(ActionNotAllowed):
        services.deliverable_qa(actor=users.bio_lead, deliverable=memo, decision="pass")

    assert snapshot(memo) == before


def test_the_lead_may_check_an_analysts_submission(users, deliverable_in):
    item = deliverable_in(S.IN_QA)

    services.deliverable_qa(actor=users.bio_lead, deliverable=item, decision="pass")

    item.refresh_from_db()
    assert item.status == S.IN_REVIEW


@pytest.mark.parametrize("username", ["bio.analyst", "alpha.manager"])
def test_only_qa_reviewers_and_leads_perform_qa(users, deliverable_in, snapshot, username):
    item = deliverable_in(S.IN_QA)
    before = snapshot(item)

    with pytest.raises(ActionNotAllowed):
        services.deliverable_qa(actor=users[username], deliverable=item, decision="pass")

    assert snapshot(item) == before


@pytest.mark.parametrize("status", [S.IN_PROGRESS, S.IN_REVIEW, S.CHANGES_REQUESTED])
def test_qa_is_refused_unless_the_deliverable_is_in_qa(users, deliverable_in, snapshot, status):
    item = deliverable_in(status)
    before = snapshot(item)

    with pytest.raises(InvalidTransition):
        services.deliverable_qa(actor=users.bio_qa, deliverable=item, decision="pass")

    assert snapshot(item) == before


@pytest.mark.parametrize("decision", ["accept", "reject", "", "PASS"])
def test_a_qa_decision_other_than_pass_or_return_is_refused(
    users, deliverable_in, snapshot, decision
):
    item = deliverable_in(S.IN_QA)
    before = snapshot(item)

    with pytest.raises(BusinessRuleViolation):
        services.deliverable_qa(actor=users.bio_qa, deliverable=item, decision=decision)

    assert snapshot(item) == before
    assert not Review.objects.filter(deliverable=item).exists()
