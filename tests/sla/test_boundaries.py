"""What the sweep fires at the exact edges of the SLA windows, given an explicit `now`.

Phase II has a 24-hour reminder lead and a 72-hour review turnaround. Every deliverable
here is new and due well after anything in the demo, so each test looks only at its own.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from deliverables import services
from deliverables.choices import ReminderKind, ReminderStatus, SlaState
from deliverables.models import SlaReminder
from deliverables.sla import run_sla_sweep
from kpo.notifications.choices import NotificationKind as K

from .conftest import GOOD_SCORES, TICK, told

SLA_KINDS = (K.DELIVERABLE_DUE_SOON, K.DELIVERABLE_BREACHED, K.REVIEW_PENDING, K.REVIEW_OVERDUE)


@pytest.fixture
def due(plan):
    """An in-progress deliverable due in ten days (at a time with microseconds)."""
    return plan(timezone.now() + timedelta(days=10, microseconds=123))


def lead(item):
    return timedelta(hours=item.engagement.reminder_lead_hours)


def turnaround(item):
    return timedelta(hours=item.engagement.review_turnaround_hours)


def sla_notifications(item):
    return [(kind, user) for kind in SLA_KINDS for user in told(item, kind)]


def reminder(item, kind):
    return SlaReminder.objects.get(deliverable=item, kind=kind, due_time=item.due_at)


# Delivery: due soon and breach.


def test_exactly_at_the_due_time_the_breach_does_not_fire(due):
    run_sla_sweep(now=due.due_at)

    due.refresh_from_db()
    assert told(due, K.DELIVERABLE_BREACHED) == []
    assert due.sla_state != SlaState.BREACHED
    assert reminder(due, ReminderKind.BREACH).status == ReminderStatus.PENDING


def test_one_microsecond_after_the_due_time_the_breach_fires(due):
    run_sla_sweep(now=due.due_at + TICK)

    due.refresh_from_db()
    assert told(due, K.DELIVERABLE_BREACHED) == ["alpha.manager", "bio.lead"]
    assert due.sla_state == SlaState.BREACHED
    assert reminder(due, ReminderKind.BREACH).status == ReminderStatus.SENT


def test_exactly_when_the_reminder_lead_begins_the_due_soon_reminder_fires(due):
    run_sla_sweep(now=due.due_at - lead(due))

    due.refresh_from_db()
    assert told(due, K.DELIVERABLE_DUE_SOON) == ["bio.analyst", "bio.lead"]
    assert told(due, K.DELIVERABLE_BREACHED) == []
    assert due.sla_state == SlaState.AT_RISK


def test_one_microsecond_before_the_reminder_lead_nothing_fires(due):
    run_sla_sweep(now=due.due_at - lead(due) - TICK)

    due.refresh_from_db()
    assert sla_notifications(due) == []
    assert due.sla_state == SlaState.ON_TRACK
    statuses = SlaReminder.objects.filter(deliverable=due).values_list("status", flat=True)
    assert set(statuses) == {ReminderStatus.PENDING}


def test_the_due_soon_reminder_fires_once_across_the_whole_lead_time(due):
    for hours_before in (24, 12, 1, 0):
        run_sla_sweep(now=due.due_at - timedelta(hours=hours_before))

    assert told(due, K.DELIVERABLE_DUE_SOON) == ["bio.analyst", "bio.lead"]


def test_work_that_is_already_late_gets_the_breach_but_no_due_soon_noise(due):
    # The first sweep to see it runs an hour after the due time (the beat was down, say).
    run_sla_sweep(now=due.due_at + timedelta(hours=1))

    assert told(due, K.DELIVERABLE_DUE_SOON) == []
    assert told(due, K.DELIVERABLE_BREACHED) == ["alpha.manager", "bio.lead"]
    assert reminder(due, ReminderKind.DUE_SOON).status == ReminderStatus.CANCELLED


def test_a_deliverable_without_an_assignee_reminds_the_team_lead(plan, users):
    item = services.deliverable_update(
        actor=users.alpha_manager,
        deliverable=plan(timezone.now() + timedelta(days=10), start=False),
        assignee=None,
    )

    run_sla_sweep(now=item.due_at - lead(item))

    assert told(item, K.DELIVERABLE_DUE_SOON) == ["bio.lead"]


# Client review: pending at half the turnaround, overdue at its end.


def test_just_before_half_the_review_turnaround_nothing_fires(in_review):
    item = in_review()

    run_sla_sweep(now=item.review_started_at + turnaround(item) / 2 - TICK)

    assert sla_notifications(item) == []


def test_at_half_the_review_turnaround_the_client_manager_is_reminded(in_review):
    item = in_review()

    run_sla_sweep(now=item.review_started_at + turnaround(item) / 2)

    assert told(item, K.REVIEW_PENDING) == ["alpha.manager"]
    assert told(item, K.REVIEW_OVERDUE) == []


def test_just_before_the_end_of_the_review_turnaround_it_is_not_yet_overdue(in_review):
    item = in_review()

    run_sla_sweep(now=item.review_started_at + turnaround(item) - TICK)

    assert told(item, K.REVIEW_OVERDUE) == []


def test_at_the_end_of_the_review_turnaround_the_client_admins_are_told(in_review):
    item = in_review()

    run_sla_sweep(now=item.review_started_at + turnaround(item))

    assert told(item, K.REVIEW_OVERDUE) == ["alpha.admin"]
    # The client manager's reminder, due earlier, goes out in the same sweep.
    assert told(item, K.REVIEW_PENDING) == ["alpha.manager"]


def test_review_reminders_fire_once_however_often_the_sweep_runs(in_review):
    item = in_review()
    half, end = turnaround(item) / 2, item.review_started_at + turnaround(item)

    for now in (end - half, end - half, end, end + timedelta(hours=1), end):
        run_sla_sweep(now=now)

    assert told(item, K.REVIEW_PENDING) == ["alpha.manager"]
    assert told(item, K.REVIEW_OVERDUE) == ["alpha.admin"]


def test_accepting_before_the_turnaround_cancels_the_review_reminders(in_review, users):
    item = in_review()
    services.deliverable_review(
        actor=users.alpha_manager, deliverable=item, decision="accept", scores=GOOD_SCORES
    )

    run_sla_sweep(now=item.review_started_at + turnaround(item) + timedelta(days=1))

    assert told(item, K.REVIEW_PENDING) == []
    assert told(item, K.REVIEW_OVERDUE) == []
    statuses = set(
        SlaReminder.objects.filter(
            deliverable=item, kind__in=[ReminderKind.REVIEW_PENDING, ReminderKind.REVIEW_OVERDUE]
        ).values_list("status", flat=True)
    )
    assert statuses == {ReminderStatus.CANCELLED}


def test_requesting_changes_stops_the_review_clock(in_review, users):
    item = in_review()
    services.deliverable_review(
        actor=users.alpha_manager, deliverable=item, decision="request_changes"
    )

    run_sla_sweep(now=item.review_started_at + turnaround(item))

    assert told(item, K.REVIEW_PENDING) == []
    assert told(item, K.REVIEW_OVERDUE) == []


def test_a_delivered_deliverable_never_breaches(in_review):
    item = in_review()

    run_sla_sweep(now=item.due_at + timedelta(days=1))

    assert told(item, K.DELIVERABLE_BREACHED) == []
    item.refresh_from_db()
    assert item.sla_state == SlaState.MET
