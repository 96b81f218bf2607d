"""The client's review of the current version: accept (scored, at or above the quality
threshold), request changes, or reject."""

from decimal import Decimal

import pytest

from deliverables import services
from deliverables.choices import DeliverableStatus, ReviewKind
from engagements import services as engagement_services
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, InvalidTransition

S = DeliverableStatus
RUBRIC = ("accuracy", "completeness", "insight", "relevance", "presentation")


def scores(*values):
    return dict(zip(RUBRIC, values, strict=True))


def test_accepting_records_the_scores_and_their_mean(users, deliverable):
    interim = deliverable("Interim efficacy report")

    review = services.deliverable_review(
        actor=users.alpha_manager,
        deliverable=interim,
        decision="accept",
        scores=scores(5, 4, 4, 5, 4),
        comment="Thorough.",
    )

    interim.refresh_from_db()
    review.refresh_from_db()
    assert interim.status == S.ACCEPTED
    assert interim.accepted_at is not None
    assert interim.overall_score == Decimal("4.40")
    assert review.overall == Decimal("4.40")
    assert review.scores == scores(5, 4, 4, 5, 4)
    assert review.kind == ReviewKind.CLIENT
    assert review.submission.version == 2
    assert review.reviewer == users.alpha_manager


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        (None, "all"),
        ({}, "all"),
        (dict(list(scores(5, 5, 5, 5, 5).items())[:4]), "presentation"),
        ({**scores(5, 5, 5, 5, 5), "insight": None}, "insight"),
    ],
)
def test_accepting_without_all_five_scores_is_refused_and_changes_nothing(
    users, deliverable, snapshot, given, missing
):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(BusinessRuleViolation) as refused:
        services.deliverable_review(
            actor=users.alpha_manager, deliverable=interim, decision="accept", scores=given
        )

    assert refused.value.field == "scores"
    if missing != "all":
        assert missing in refused.value.message
    assert snapshot(interim) == before


def test_accepting_below_the_quality_threshold_is_refused_and_changes_nothing(
    users, deliverable, snapshot
):
    interim = deliverable("Interim efficacy report")
    assert interim.engagement.quality_threshold == Decimal("3.50")
    before = snapshot(interim)

    with pytest.raises(BusinessRuleViolation, match="threshold"):
        services.deliverable_review(
            actor=users.alpha_manager,
            deliverable=interim,
            decision="accept",
            scores=scores(4, 3, 3, 4, 3),  # 3.40
        )

    assert snapshot(interim) == before


def test_accepting_exactly_at_the_quality_threshold_is_allowed(users, deliverable, pdf):
    model = deliverable("Q4 earnings model")
    assert model.engagement.quality_threshold == Decimal("3.00")
    services.deliverable_submit(actor=users.ledger_analyst, deliverable=model, file=pdf())

    services.deliverable_review(
        actor=users.northwind_manager,
        deliverable=model,
        decision="accept",
        scores=scores(3, 3, 2, 4, 3),
    )

    model.refresh_from_db()
    assert model.status == S.ACCEPTED
    assert model.overall_score == Decimal("3.00")


def test_a_threshold_that_is_not_a_whole_number_is_compared_exactly(
    users, engagements, deliverable
):
    engagement_services.engagement_update(
        actor=users.alpha_manager,
        engagement=engagements.phase_two,
        quality_threshold=Decimal("3.60"),
    )
    interim = deliverable("Interim efficacy report")

    services.deliverable_review(
        actor=users.alpha_manager,
        deliverable=interim,
        decision="accept",
        scores=scores(4, 4, 3, 4, 3),  # 3.60
    )

    interim.refresh_from_db()
    assert interim.overall_score == Decimal("3.60")
    assert interim.status == S.ACCEPTED


@pytest.mark.parametrize("bad", [0, 6, -1, 2.5, "4", True, 10])
def test_a_score_outside_one_to_five_is_refused(users, deliverable, snapshot, bad):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(BusinessRuleViolation):
        services.deliverable_review(
            actor=users.alpha_manager,
            deliverable=interim,
            decision="accept",
            scores={**scores(5, 5, 5, 5, 5), "accuracy": bad},
        )

    assert snapshot(interim) == before


def test_an_unknown_criterion_is_refused(users, deliverable, snapshot):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(BusinessRuleViolation, match="originality"):
        services.deliverable_review(
            actor=users.alpha_manager,
            deliverable=interim,
            decision="accept",
            scores={**scores(5, 5, 5, 5, 5), "originality": 5},
        )

    assert snapshot(interim) == before


def test_requesting_changes_sends_it_back_and_the_analyst_resubmits(users, deliverable, pdf):
    interim = deliverable("Interim efficacy report")

    services.deliverable_review(
        actor=users.alpha_manager,
        deliverable=interim,
        decision="request_changes",
        comment="Add the PK subset.",
    )
    interim.refresh_from_db()
    assert interim.status == S.CHANGES_REQUESTED
    assert interim.accepted_at is None

    submission = services.deliverable_submit(
        actor=users.bio_analyst, deliverable=interim, file=pdf("Interim v3.pdf")
    )

    interim.refresh_from_db()
    assert submission.version == 3
    assert interim.status == S.IN_QA


def test_a_request_for_changes_may_carry_scores_without_an_overall_threshold(users, deliverable):
    interim = deliverable("Interim efficacy report")

    review = services.deliverable_review(
        actor=users.alpha_manager,
        deliverable=interim,
        decision="request_changes",
        scores=scores(1, 1, 1, 1, 1),
    )

    assert review.overall == Decimal("1.00")
    interim.refresh_from_db()
    assert interim.overall_score is None


def test_rejecting_ends_the_deliverable(users, deliverable, pdf, snapshot):
    interim = deliverable("Interim efficacy report")

    services.deliverable_review(
        actor=users.alpha_manager, deliverable=interim, decision="reject", comment="Wrong trial."
    )

    interim.refresh_from_db()
    assert interim.status == S.REJECTED
    assert interim.accepted_at is None
    before = snapshot(interim)
    with pytest.raises(InvalidTransition):
        services.deliverable_submit(actor=users.bio_analyst, deliverable=interim, file=pdf())
    assert snapshot(interim) == before


@pytest.mark.parametrize("status", [S.IN_PROGRESS, S.IN_QA, S.CHANGES_REQUESTED, S.ACCEPTED])
def test_a_client_review_is_refused_unless_the_deliverable_is_in_review(
    users, deliverable_in, snapshot, status
):
    item = deliverable_in(status)
    before = snapshot(item)

    with pytest.raises(InvalidTransition):
        services.deliverable_review(
            actor=users.alpha_manager,
            deliverable=item,
            decision="accept",
            scores=scores(5, 5, 5, 5, 5),
        )

    assert snapshot(item) == before


@pytest.mark.parametrize("username", ["alpha.viewer", "bio.lead", "bio.qa"])
def test_only_client_admins_and_managers_review(users, deliverable, snapshot, username):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(ActionNotAllowed):
        services.deliverable_review(
            actor=users[username],
            deliverable=interim,
            decision="accept",
            scores=scores(5, 5, 5, 5, 5),
        )

    assert snapshot(interim) == before


@pytest.mark.parametrize("decision", ["pass", "return", "approve", ""])
def test_a_client_decision_other_than_accept_request_changes_or_reject_is_refused(
    users, deliverable, snapshot, decision
):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(BusinessRuleViolation):
        services.deliverable_review(
            actor=users.alpha_manager, deliverable=interim, decision=decision
        )

    assert snapshot(interim) == before
