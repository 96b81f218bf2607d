"""Planning deliverables and starting work on them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deliverables import services
from deliverables.choices import DeliverableStatus, SlaState
from engagements import services as engagement_services
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, InvalidTransition, NotVisible

S = DeliverableStatus


@pytest.mark.parametrize(
    ("due_in", "state"),
    [
        (timedelta(days=3), SlaState.ON_TRACK),
        (timedelta(hours=25), SlaState.ON_TRACK),
        (timedelta(hours=23), SlaState.AT_RISK),
        (timedelta(hours=1), SlaState.AT_RISK),
        (timedelta(minutes=-1), SlaState.BREACHED),
        (timedelta(days=-2), SlaState.BREACHED),
    ],
)
def test_planning_computes_the_sla_state_from_the_due_time_and_the_reminder_lead(
    users, engagements, due_in, state
):
    engagement = engagements.phase_two
    assert engagement.reminder_lead_hours == 24

    planned = services.deliverable_plan(
        actor=users.alpha_manager,
        engagement=engagement,
        title="Exposure-response analysis",
        due_at=timezone.now() + due_in,
    )

    planned.refresh_from_db()
    assert planned.status == S.PLANNED
    assert planned.sla_state == state
    assert planned.current_version == 0
    assert planned.delivered_at is None


def test_the_provider_lead_may_plan_deliverables_too(users, engagements):
    planned = services.deliverable_plan(
        actor=users.bio_lead,
        engagement=engagements.phase_two,
        title="Sensitivity analysis",
        due_at=timezone.now() + timedelta(days=10),
        kind="dataset",
        assignee=users.bio_analyst,
    )

    assert planned.kind == "dataset"
    assert planned.assignee == users.bio_analyst
    assert planned.created_by == users.bio_lead


@pytest.mark.parametrize("username", ["alpha.viewer", "bio.analyst", "bio.qa", "bio.admin"])
def test_only_client_managers_and_the_lead_plan(users, engagements, username):
    count = engagements.phase_two.deliverables.count()

    with pytest.raises(ActionNotAllowed):
        services.deliverable_plan(
            actor=users[username],
            engagement=engagements.phase_two,
            title="Sensitivity analysis",
            due_at=timezone.now() + timedelta(days=10),
        )

    assert engagements.phase_two.deliverables.count() == count


@pytest.mark.parametrize("username", ["bio.writer", "ledger.analyst", "bio.qa", "alpha.manager"])
def test_the_assignee_must_be_an_analyst_or_lead_working_on_the_engagement(
    users, engagements, username
):
    count = engagements.phase_two.deliverables.count()

    with pytest.raises(BusinessRuleViolation) as refused:
        services.deliverable_plan(
            actor=users.alpha_manager,
            engagement=engagements.phase_two,
            title="Sensitivity analysis",
            due_at=timezone.now() + timedelta(days=10),
            assignee=users[username],
        )

    assert refused.value.field == "assignee"
    assert engagements.phase_two.deliverables.count() == count


def test_nothing_can_be_planned_in_a_closed_engagement(users, engagements):
    engagement = engagement_services.engagement_terminate(
        actor=users.alpha_manager, engagement=engagements.phase_two
    )
    count = engagement.deliverables.count()

    with pytest.raises(InvalidTransition):
        services.deliverable_plan(
            actor=users.alpha_manager,
            engagement=engagement,
            title="Too late",
            due_at=timezone.now() + timedelta(days=1),
        )

    assert engagement.deliverables.count() == count


def test_the_analyst_starts_a_planned_deliverable(users, deliverable):
    planned = deliverable("Subgroup response analysis")

    started = services.deliverable_start(actor=users.bio_analyst, deliverable=planned)

    started.refresh_from_db()
    assert started.status == S.IN_PROGRESS


def test_an_analyst_who_starts_unassigned_work_becomes_its_assignee(users, engagements):
    planned = services.deliverable_plan(
        actor=users.alpha_manager,
        engagement=engagements.phase_two,
        title="Unassigned work",
        due_at=timezone.now() + timedelta(days=5),
    )

    services.deliverable_start(actor=users.bio_analyst, deliverable=planned)

    planned.refresh_from_db()
    assert planned.assignee == users.bio_analyst


def test_starting_twice_is_refused_and_changes_nothing(users, deliverable, snapshot):
    memo = deliverable("Safety signal memo")
    before = snapshot(memo)

    with pytest.raises(InvalidTransition):
        services.deliverable_start(actor=users.bio_analyst, deliverable=memo)

    assert snapshot(memo) == before


def test_work_cannot_start_while_the_engagement_is_on_hold(users, engagements, deliverable):
    engagement_services.engagement_hold(actor=users.alpha_manager, engagement=engagements.phase_two)
    planned = deliverable("Subgroup response analysis")

    with pytest.raises(InvalidTransition):
        services.deliverable_start(actor=users.bio_analyst, deliverable=planned)

    planned.refresh_from_db()
    assert planned.status == S.PLANNED


def test_an_analyst_of_another_team_cannot_see_the_work(users, deliverable, snapshot):
    planned = deliverable("Subgroup response analysis")
    before = snapshot(planned)

    with pytest.raises(NotVisible):
        services.deliverable_start(actor=users.bio_writer, deliverable=planned)

    assert snapshot(planned) == before
