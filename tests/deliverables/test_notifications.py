"""Who is told about work on a deliverable: the people who act next, never the actor."""

import pytest

from deliverables import services
from deliverables.choices import DeliverableStatus
from kpo.domain import BusinessRuleViolation
from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.models import Notification

S = DeliverableStatus
GOOD = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}


@pytest.fixture
def told():
    """`told(deliverable)` after `mark = told.mark()`: (kind, username) pairs since the mark."""

    class Told:
        since = 0

        def mark(self):
            self.since = Notification.objects.order_by("-id").values_list("id", flat=True).first()

        def __call__(self, deliverable):
            return sorted(
                Notification.objects.filter(
                    deliverable=deliverable, id__gt=self.since or 0
                ).values_list("kind", "user__username")
            )

    return Told()


def test_a_submission_for_qa_tells_the_teams_qa_reviewers_and_lead(users, deliverable, pdf, told):
    memo = deliverable("Safety signal memo")
    told.mark()

    services.deliverable_submit(actor=users.bio_analyst, deliverable=memo, file=pdf())

    assert told(memo) == [
        (K.DELIVERABLE_SUBMITTED, "bio.lead"),
        (K.DELIVERABLE_SUBMITTED, "bio.qa"),
    ]
    note = Notification.objects.filter(deliverable=memo).latest("id")
    assert note.engagement_id == memo.engagement_id
    assert note.url == f"/deliverables/{memo.pk}/"


def test_the_lead_submitting_is_not_told_of_their_own_submission(users, deliverable, pdf, told):
    memo = deliverable("Safety signal memo")
    told.mark()

    services.deliverable_submit(actor=users.bio_lead, deliverable=memo, file=pdf())

    assert told(memo) == [(K.DELIVERABLE_SUBMITTED, "bio.qa")]


def test_a_qa_pass_asks_the_client_manager_for_a_review(users, deliverable_in, told):
    item = deliverable_in(S.IN_QA)
    told.mark()

    services.deliverable_qa(actor=users.bio_qa, deliverable=item, decision="pass")

    assert told(item) == [(K.REVIEW_REQUESTED, "alpha.manager")]


def test_a_qa_return_tells_the_analyst(users, deliverable_in, told):
    item = deliverable_in(S.IN_QA)
    told.mark()

    services.deliverable_qa(actor=users.bio_qa, deliverable=item, decision="return")

    assert told(item) == [(K.QA_RETURNED, "bio.analyst")]


def test_a_submission_without_qa_asks_the_client_manager_for_a_review(
    users, deliverable, pdf, told
):
    model = deliverable("Q4 earnings model")
    told.mark()

    services.deliverable_submit(actor=users.ledger_analyst, deliverable=model, file=pdf())

    assert told(model) == [(K.REVIEW_REQUESTED, "northwind.manager")]


@pytest.mark.parametrize(
    ("decision", "kind"),
    [
        ("accept", K.DELIVERABLE_ACCEPTED),
        ("request_changes", K.CHANGES_REQUESTED),
        ("reject", K.DELIVERABLE_REJECTED),
    ],
)
def test_the_client_decision_is_told_to_the_submitter_and_the_provider_lead(
    users, deliverable, told, decision, kind
):
    interim = deliverable("Interim efficacy report")
    told.mark()

    services.deliverable_review(
        actor=users.alpha_manager,
        deliverable=interim,
        decision=decision,
        scores=GOOD if decision == "accept" else None,
    )

    assert told(interim) == [(kind, "bio.analyst"), (kind, "bio.lead")]


def test_a_comment_tells_the_others_on_the_work_and_not_its_author(users, deliverable, told):
    interim = deliverable("Interim efficacy report")
    told.mark()

    services.comment_add(actor=users.alpha_manager, deliverable=interim, body="Thanks.")

    assert told(interim) == [(K.COMMENT_ADDED, "bio.analyst"), (K.COMMENT_ADDED, "bio.lead")]


def test_a_refused_action_tells_nobody(users, deliverable, told):
    interim = deliverable("Interim efficacy report")
    told.mark()

    with pytest.raises(BusinessRuleViolation):
        services.deliverable_review(
            actor=users.alpha_manager, deliverable=interim, decision="accept", scores=None
        )

    assert told(interim) == []
