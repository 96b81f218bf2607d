"""The engagement lifecycle: draft → proposed → active ⇄ on_hold → completed | terminated,
with a declined proposal going back to draft. Every change not in the transition table is
refused and leaves everything as it was."""

import pytest

from engagements import services
from engagements.choices import ENGAGEMENT_TRANSITIONS, EngagementStatus
from kpo.audit.models import AuditEvent
from kpo.domain import ActionNotAllowed, InvalidTransition, NotVisible

S = EngagementStatus

# The verbs that move an engagement to each target status, and who performs them.
VERBS = {
    S.PROPOSED: [("propose", "alpha.manager")],
    S.ACTIVE: [("accept", "bio.admin"), ("resume", "alpha.manager")],
    S.DRAFT: [("decline", "bio.admin")],
    S.ON_HOLD: [("hold", "alpha.manager")],
    S.COMPLETED: [("complete", "alpha.manager")],
    S.TERMINATED: [("terminate", "alpha.manager")],
}

ILLEGAL = [
    pytest.param(current, target, verb, actor, id=f"{current}->{target}:{verb}")
    for current in S
    for target in S
    if target not in ENGAGEMENT_TRANSITIONS[current]
    for verb, actor in VERBS[target]
]


def call(verb, *, actor, engagement):
    return getattr(services, f"engagement_{verb}")(actor=actor, engagement=engagement)


def test_the_whole_lifecycle_from_draft_to_completed(users, new_engagement):
    manager, provider_admin = users.alpha_manager, users.bio_admin
    engagement = new_engagement()
    seen = [engagement.status]

    for verb, actor in [
        ("propose", manager),
        ("decline", provider_admin),
        ("propose", manager),
        ("accept", provider_admin),
        ("hold", manager),
        ("resume", manager),
        ("hold", manager),
        ("complete", manager),
    ]:
        engagement = call(verb, actor=actor, engagement=engagement)
        engagement.refresh_from_db()
        seen.append(engagement.status)

    assert seen == [
        S.DRAFT,
        S.PROPOSED,
        S.DRAFT,
        S.PROPOSED,
        S.ACTIVE,
        S.ON_HOLD,
        S.ACTIVE,
        S.ON_HOLD,
        S.COMPLETED,
    ]
    assert engagement.held_since is None


@pytest.mark.parametrize("current", [S.ACTIVE, S.ON_HOLD])
def test_an_active_or_held_engagement_can_be_terminated(users, new_engagement, current):
    engagement = new_engagement(current)

    services.engagement_terminate(actor=users.alpha_manager, engagement=engagement, reason="Budget")

    engagement.refresh_from_db()
    assert engagement.status == S.TERMINATED
    assert engagement.held_since is None


def test_a_declined_proposal_goes_back_to_the_client_as_a_draft_with_the_reason(
    users, new_engagement
):
    engagement = new_engagement(S.PROPOSED)

    services.engagement_decline(
        actor=users.bio_admin, engagement=engagement, reason="No capacity this quarter"
    )

    engagement.refresh_from_db()
    assert engagement.status == S.DRAFT
    event = AuditEvent.objects.filter(engagement=engagement).first()
    assert event.action == "engagement.decline"
    assert event.changes["reason"] == "No capacity this quarter"


def test_holding_records_when_the_hold_began(users, engagements):
    engagement = services.engagement_hold(
        actor=users.alpha_manager, engagement=engagements.phase_two
    )

    engagement.refresh_from_db()
    assert engagement.status == S.ON_HOLD
    assert engagement.held_since is not None


@pytest.mark.parametrize(("current", "target", "verb", "username"), ILLEGAL)
def test_every_transition_outside_the_table_is_refused_and_changes_nothing(
    users, new_engagement, snapshot, current, target, verb, username
):
    engagement = new_engagement(current)
    before = snapshot(engagement)
    actor = users[username]

    # A provider never sees a client's drafts, so its verbs on a draft answer "not found"
    # (a stronger refusal than "not now"); every other illegal move is a state conflict.
    expected = NotVisible if current == S.DRAFT and actor.provider_id else InvalidTransition
    with pytest.raises(expected):
        call(verb, actor=actor, engagement=engagement)

    assert snapshot(engagement) == before


def test_the_client_cannot_activate_its_own_proposal_by_resuming_it(
    users, new_engagement, snapshot
):
    # Only the provider may accept a proposal; "resume" is for held work.
    engagement = new_engagement(S.PROPOSED)
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_resume(actor=users.alpha_manager, engagement=engagement)

    assert snapshot(engagement) == before


def test_the_provider_cannot_lift_a_clients_hold_by_accepting_again(
    users, new_engagement, snapshot
):
    # Holding and resuming are the client's decisions; "accept" answers a proposal only.
    engagement = new_engagement(S.ON_HOLD)
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_accept(actor=users.bio_admin, engagement=engagement)

    assert snapshot(engagement) == before


@pytest.mark.parametrize(
    ("verb", "username", "current"),
    [
        ("propose", "alpha.viewer", S.DRAFT),
        ("accept", "bio.lead", S.PROPOSED),
        ("accept", "alpha.manager", S.PROPOSED),
        ("decline", "alpha.manager", S.PROPOSED),
        ("hold", "bio.admin", S.ACTIVE),
        ("hold", "bio.lead", S.ACTIVE),
        ("resume", "bio.admin", S.ON_HOLD),
        ("complete", "alpha.viewer", S.ACTIVE),
        ("terminate", "bio.admin", S.ACTIVE),
    ],
)
def test_each_verb_belongs_to_its_side(users, new_engagement, snapshot, verb, username, current):
    engagement = new_engagement(current)
    # Give the actor sight of the engagement, so that the refusal is about the action.
    if username == "alpha.viewer":
        services.engagement_grant_access(
            actor=users.alpha_manager, engagement=engagement, user=users.alpha_viewer
        )
    if username == "bio.lead":
        services.engagement_assign_lead(
            actor=users.bio_admin, engagement=engagement, lead=users.bio_lead
        )
    before = snapshot(engagement)

    with pytest.raises(ActionNotAllowed):
        call(verb, actor=users[username], engagement=engagement)

    assert snapshot(engagement) == before


def test_a_client_admin_may_propose_a_draft_a_colleague_manages(users, new_engagement):
    engagement = new_engagement()

    services.engagement_propose(actor=users.alpha_admin, engagement=engagement)

    engagement.refresh_from_db()
    assert engagement.status == S.PROPOSED


def test_another_provider_cannot_answer_a_proposal_it_was_not_sent(users, new_engagement, snapshot):
    engagement = new_engagement(S.PROPOSED)
    before = snapshot(engagement)

    with pytest.raises(NotVisible):
        services.engagement_accept(actor=users.ledger_admin, engagement=engagement)

    assert snapshot(engagement) == before
