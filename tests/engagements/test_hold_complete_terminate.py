"""Holding, resuming, completing and terminating engagements that have work in flight."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from deliverables.choices import OPEN_STATUSES, UNDELIVERED_STATUSES, DeliverableStatus, SlaState
from deliverables.models import Deliverable
from deliverables.services import deliverable_cancel, deliverable_qa, deliverable_submit
from engagements import services
from engagements.choices import EngagementStatus
from engagements.models import Engagement
from kpo.audit.models import AuditEvent
from kpo.domain import InvalidTransition

HOLD = timedelta(days=2)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def deliverable_times(engagement):
    return {
        d.title: (d.status, d.due_at, d.review_started_at)
        for d in Deliverable.objects.filter(engagement=engagement)
    }


@pytest.fixture
def two_day_hold(users, engagements):
    """Phase II put on hold, as if two days ago. The hold length is "now minus
    `held_since`", so moving `held_since` back is the same as waiting two days without
    patching the clock that the services, the database and `auto_now` fields all read."""
    engagement = services.engagement_hold(
        actor=users.alpha_manager, engagement=engagements.phase_two
    )
    Engagement.objects.filter(pk=engagement.pk).update(held_since=timezone.now() - HOLD)
    # The seeded review began "now"; in the two-day-old world of this fixture it began just
    # before the hold.
    Deliverable.objects.filter(engagement=engagement, review_started_at__isnull=False).update(
        review_started_at=F("review_started_at") - HOLD - timedelta(seconds=1)
    )
    return engagement


def test_resuming_moves_every_undelivered_due_time_by_the_length_of_the_hold(users, two_day_hold):
    before = deliverable_times(two_day_hold)

    services.engagement_resume(actor=users.alpha_manager, engagement=two_day_hold)

    after = deliverable_times(two_day_hold)
    moved = {
        title: after[title][1] - due
        for title, (status, due, _) in before.items()
        if status in UNDELIVERED_STATUSES
    }
    assert set(moved) == {"Safety signal memo", "Data cleaning log", "Subgroup response analysis"}
    for shift in moved.values():
        assert HOLD <= shift < HOLD + timedelta(minutes=1)
    assert len(set(moved.values())) == 1


def test_resuming_leaves_delivered_work_due_where_it_was_and_restarts_the_review_clock(
    users, two_day_hold
):
    before = deliverable_times(two_day_hold)

    services.engagement_resume(actor=users.alpha_manager, engagement=two_day_hold)

    after = deliverable_times(two_day_hold)
    assert after["Statistical analysis plan"] == before["Statistical analysis plan"]
    status, due, review_started = before["Interim efficacy report"]
    assert status == DeliverableStatus.IN_REVIEW
    assert after["Interim efficacy report"][1] == due
    shift = after["Interim efficacy report"][2] - review_started
    assert HOLD <= shift < HOLD + timedelta(minutes=1)


def test_resuming_recomputes_the_sla_state_of_the_due_times_it_moves(
    users, two_day_hold, deliverable
):
    # Due in 12 hours with a 24-hour reminder lead: at risk. Two more days puts it outside
    # the reminder window again, as `deliverable_update` would compute for the same due time.
    assert deliverable("Safety signal memo").sla_state == SlaState.AT_RISK

    services.engagement_resume(actor=users.alpha_manager, engagement=two_day_hold)

    memo = deliverable("Safety signal memo")
    assert memo.due_at - timezone.now() > timedelta(hours=two_day_hold.reminder_lead_hours)
    assert memo.sla_state == SlaState.ON_TRACK


def test_a_review_that_began_during_the_hold_does_not_start_in_the_future_after_resuming(
    users, engagements, deliverable
):
    # A version is in QA when the client pauses the work; QA passes it during the hold,
    # which starts the client's review clock. Moving that clock by the whole hold on resume
    # would put its start two days after the resume itself.
    memo = deliverable("Safety signal memo")
    deliverable_submit(
        actor=users.bio_analyst,
        deliverable=memo,
        file=SimpleUploadedFile("memo.pdf", PDF, content_type="application/pdf"),
    )
    engagement = services.engagement_hold(
        actor=users.alpha_manager, engagement=engagements.phase_two
    )
    Engagement.objects.filter(pk=engagement.pk).update(held_since=timezone.now() - HOLD)
    deliverable_qa(actor=users.bio_qa, deliverable=memo, decision="pass")

    services.engagement_resume(actor=users.alpha_manager, engagement=engagement)

    memo.refresh_from_db()
    assert memo.status == DeliverableStatus.IN_REVIEW
    assert memo.review_started_at <= timezone.now()


def test_resuming_audits_how_long_the_hold_lasted(users, two_day_hold):
    services.engagement_resume(actor=users.alpha_manager, engagement=two_day_hold)

    event = AuditEvent.objects.filter(engagement=two_day_hold, action="engagement.resume").get()
    hold_seconds = int(HOLD.total_seconds())
    assert hold_seconds <= event.changes["hold_seconds"] < hold_seconds + 60
    assert event.changes["deadlines_moved"] == 3
    assert event.changes["status"] == [EngagementStatus.ON_HOLD, EngagementStatus.ACTIVE]


def test_resuming_clears_the_hold(users, two_day_hold):
    services.engagement_resume(actor=users.alpha_manager, engagement=two_day_hold)

    two_day_hold.refresh_from_db()
    assert two_day_hold.status == EngagementStatus.ACTIVE
    assert two_day_hold.held_since is None


def test_completing_is_refused_while_deliverables_are_open(users, engagements, snapshot):
    engagement = engagements.phase_two
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition, match="still open"):
        services.engagement_complete(actor=users.alpha_manager, engagement=engagement)

    assert snapshot(engagement) == before


def test_completing_succeeds_once_every_open_deliverable_is_finished(users, engagements):
    engagement = engagements.phase_two
    for deliverable in Deliverable.objects.filter(engagement=engagement, status__in=OPEN_STATUSES):
        deliverable_cancel(actor=users.alpha_manager, deliverable=deliverable)

    services.engagement_complete(actor=users.alpha_manager, engagement=engagement)

    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.COMPLETED


def test_terminating_cancels_every_open_deliverable_and_keeps_finished_ones(users, engagements):
    engagement = engagements.phase_two
    open_titles = set(
        Deliverable.objects.filter(engagement=engagement, status__in=OPEN_STATUSES).values_list(
            "title", flat=True
        )
    )

    services.engagement_terminate(
        actor=users.alpha_manager, engagement=engagement, reason="Trial stopped early"
    )

    statuses = dict(
        Deliverable.objects.filter(engagement=engagement).values_list("title", "status")
    )
    assert open_titles == {
        "Interim efficacy report",
        "Safety signal memo",
        "Data cleaning log",
        "Subgroup response analysis",
    }
    assert {statuses[t] for t in open_titles} == {DeliverableStatus.CANCELLED}
    assert statuses["Statistical analysis plan"] == DeliverableStatus.ACCEPTED
    cancels = AuditEvent.objects.filter(engagement=engagement, action="deliverable.cancel")
    assert cancels.count() == 4
    event = AuditEvent.objects.filter(engagement=engagement, action="engagement.terminate").get()
    assert event.changes["cancelled_deliverables"] == 4
    assert event.changes["reason"] == "Trial stopped early"
