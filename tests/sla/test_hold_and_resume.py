"""SLA clocks stop while an engagement is on hold: nothing fires, and on resume every open due
time and its pending reminders move by the length of the hold.

The hold length is "now minus `held_since`", so moving `held_since` back is the same as
waiting that long, without patching the clock the services and the database read.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.choices import (
    DELIVERY_REMINDERS,
    REVIEW_REMINDERS,
    DeliverableStatus,
    ReminderKind,
    ReminderStatus,
    SlaState,
)
from deliverables.models import Deliverable, SlaReminder
from deliverables.sla import run_sla_sweep
from engagements import services
from engagements.models import Engagement
from kpo.audit.models import AuditEvent
from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.models import Notification

from .conftest import PDF, TICK, told

HOLD = timedelta(days=2)
SLA_KINDS = (K.DELIVERABLE_DUE_SOON, K.DELIVERABLE_BREACHED, K.REVIEW_PENDING, K.REVIEW_OVERDUE)


def hold(users, engagement, *, began_ago=HOLD):
    """Put the engagement on hold through the service, as if `began_ago`."""
    engagement = services.engagement_hold(actor=users.alpha_manager, engagement=engagement)
    Engagement.objects.filter(pk=engagement.pk).update(held_since=timezone.now() - began_ago)
    return engagement


def resume(users, engagement):
    return services.engagement_resume(actor=users.alpha_manager, engagement=engagement)


def pending(item, kinds):
    return {
        kind: (due_time, fire_at)
        for kind, due_time, fire_at in SlaReminder.objects.filter(
            deliverable=item, kind__in=kinds, status=ReminderStatus.PENDING
        ).values_list("kind", "due_time", "fire_at")
    }


@pytest.fixture
def spanning(users, engagements, plan):
    """A deliverable due an hour ago, in an engagement put on hold two days ago: the hold
    began before the due time and is still running after it."""
    item = plan(timezone.now() - timedelta(hours=1), title="Adverse events listing")
    engagement = hold(users, engagements.phase_two)
    return item, engagement


def test_nothing_fires_while_the_engagement_is_on_hold(users, engagements):
    engagement = services.engagement_hold(
        actor=users.alpha_manager, engagement=engagements.phase_two
    )
    reminders = SlaReminder.objects.filter(deliverable__engagement=engagement)
    pending_before = reminders.filter(status=ReminderStatus.PENDING).count()

    # Long past every due time and review deadline of the engagement.
    result = run_sla_sweep(now=timezone.now() + timedelta(days=60))

    fired = Notification.objects.filter(engagement=engagement, kind__in=SLA_KINDS)
    assert fired.count() == 0
    assert reminders.filter(status=ReminderStatus.PENDING).count() == pending_before >= 5
    assert not reminders.filter(status=ReminderStatus.SENT).exists()
    # Another engagement's work is not held up by it.
    assert result["fired"] >= 1


def test_the_sla_state_does_not_turn_breached_during_the_hold(users, engagements, deliverable):
    hold(users, engagements.phase_two)

    run_sla_sweep(now=timezone.now() + timedelta(days=60))

    assert deliverable("Safety signal memo").sla_state == SlaState.AT_RISK


def test_resuming_moves_the_due_time_by_the_length_of_the_hold(users, spanning):
    item, engagement = spanning
    before = item.due_at

    resume(users, engagement)

    item.refresh_from_db()
    shift = item.due_at - before
    assert HOLD <= shift < HOLD + timedelta(minutes=1)
    assert item.due_at > timezone.now()


def test_resuming_moves_the_pending_reminders_with_the_due_time(users, spanning):
    item, engagement = spanning
    before = pending(item, DELIVERY_REMINDERS)
    assert set(before) == {ReminderKind.DUE_SOON, ReminderKind.BREACH}

    resume(users, engagement)

    item.refresh_from_db()
    after = pending(item, DELIVERY_REMINDERS)
    shift = item.due_at - before[ReminderKind.BREACH][0]
    assert HOLD <= shift < HOLD + timedelta(minutes=1)
    assert after == {
        kind: (due_time + shift, fire_at + shift) for kind, (due_time, fire_at) in before.items()
    }
    assert after[ReminderKind.BREACH] == (item.due_at, item.due_at)
    lead = timedelta(hours=engagement.reminder_lead_hours)
    assert after[ReminderKind.DUE_SOON] == (item.due_at, item.due_at - lead)


def test_after_resuming_the_breach_fires_only_after_the_moved_due_time(users, spanning):
    item, engagement = spanning
    old_due = item.due_at
    resume(users, engagement)
    item.refresh_from_db()

    run_sla_sweep(now=old_due + TICK)
    run_sla_sweep(now=timezone.now())
    run_sla_sweep(now=item.due_at)
    assert told(item, K.DELIVERABLE_BREACHED) == []

    run_sla_sweep(now=item.due_at + TICK)
    assert told(item, K.DELIVERABLE_BREACHED) == ["alpha.manager", "bio.lead"]


def test_after_resuming_the_due_soon_reminder_fires_at_the_moved_lead_time(users, spanning):
    item, engagement = spanning
    resume(users, engagement)
    item.refresh_from_db()
    lead = timedelta(hours=engagement.reminder_lead_hours)

    run_sla_sweep(now=item.due_at - lead - TICK)
    assert told(item, K.DELIVERABLE_DUE_SOON) == []

    run_sla_sweep(now=item.due_at - lead)
    assert told(item, K.DELIVERABLE_DUE_SOON) == ["bio.analyst", "bio.lead"]


def test_resuming_recomputes_the_sla_state_for_the_moved_due_time(users, spanning):
    item, engagement = spanning
    assert item.sla_state == SlaState.BREACHED  # planned with a due time already past

    resume(users, engagement)

    item.refresh_from_db()
    # Due in about 47 hours with a 24-hour lead.
    assert item.sla_state == SlaState.ON_TRACK


def test_resuming_is_audited_with_the_length_of_the_hold(users, spanning):
    item, engagement = spanning
    before = item.due_at

    resume(users, engagement)

    item.refresh_from_db()
    event = AuditEvent.objects.filter(engagement=engagement, action="engagement.resume").get()
    assert event.changes["hold_seconds"] == int((item.due_at - before).total_seconds())
    assert int(HOLD.total_seconds()) <= event.changes["hold_seconds"]


def test_a_running_review_clock_moves_with_the_hold(users, engagements, in_review):
    item = in_review()
    # In the world of the two-day hold, the review began just before the hold.
    Deliverable.objects.filter(pk=item.pk).update(
        review_started_at=F("review_started_at") - HOLD - timedelta(seconds=1)
    )
    item.refresh_from_db()
    old_deadline = item.review_started_at + timedelta(hours=item.engagement.review_turnaround_hours)
    engagement = hold(users, engagements.phase_two)

    resume(users, engagement)

    item.refresh_from_db()
    deadline = item.review_started_at + timedelta(hours=engagement.review_turnaround_hours)
    shift = deadline - old_deadline
    assert HOLD <= shift < HOLD + timedelta(minutes=1)
    assert {kind: due for kind, (due, _) in pending(item, REVIEW_REMINDERS).items()} == {
        ReminderKind.REVIEW_PENDING: deadline,
        ReminderKind.REVIEW_OVERDUE: deadline,
    }

    run_sla_sweep(now=old_deadline + TICK)
    assert told(item, K.REVIEW_OVERDUE) == []

    run_sla_sweep(now=deadline)
    assert told(item, K.REVIEW_OVERDUE) == ["alpha.admin"]
    assert told(item, K.REVIEW_PENDING) == ["alpha.manager"]


def test_resuming_keeps_the_met_state_of_delivered_work_sent_back_for_changes(
    users, engagements, in_review
):
    # Delivered on time, then sent back for changes: `met` records the delivery for good.
    item = in_review()
    deliverable_services.deliverable_review(
        actor=users.alpha_manager, deliverable=item, decision="request_changes"
    )
    item.refresh_from_db()
    assert (item.status, item.sla_state) == (DeliverableStatus.CHANGES_REQUESTED, SlaState.MET)
    engagement = hold(users, engagements.phase_two)

    resume(users, engagement)

    item.refresh_from_db()
    assert item.sla_state == SlaState.MET


def test_a_deliverable_submitted_again_after_resuming_is_not_breached_by_its_old_due_time(
    users, spanning
):
    item, engagement = spanning
    resume(users, engagement)
    deliverable_services.deliverable_submit(
        actor=users.bio_analyst,
        deliverable=item,
        file=SimpleUploadedFile("listing.pdf", PDF, content_type="application/pdf"),
    )
    deliverable_services.deliverable_qa(actor=users.bio_qa, deliverable=item, decision="pass")

    run_sla_sweep(now=timezone.now() + timedelta(days=5))

    item.refresh_from_db()
    assert item.sla_state == SlaState.MET
    assert told(item, K.DELIVERABLE_BREACHED) == []
