"""Reminder rows follow the plan: a new due time replaces the old reminders (each due time is
reminded once), and work that stops — cancelled, or its engagement terminated — is never
reminded again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deliverables import services
from deliverables.choices import ReminderKind, ReminderStatus
from deliverables.models import SlaReminder
from deliverables.sla import run_sla_sweep
from engagements import services as engagement_services
from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.models import Notification

from .conftest import TICK, reminders, told

SLA_KINDS = (K.DELIVERABLE_DUE_SOON, K.DELIVERABLE_BREACHED, K.REVIEW_PENDING, K.REVIEW_OVERDUE)


@pytest.fixture
def item(plan):
    return plan(timezone.now() + timedelta(days=10))


def move(users, item, due_at):
    return services.deliverable_update(actor=users.alpha_manager, deliverable=item, due_at=due_at)


def test_planning_schedules_a_due_soon_and_a_breach_reminder(item):
    lead = timedelta(hours=item.engagement.reminder_lead_hours)

    assert reminders(item) == [
        (ReminderKind.BREACH, item.due_at, item.due_at, ReminderStatus.PENDING),
        (ReminderKind.DUE_SOON, item.due_at, item.due_at - lead, ReminderStatus.PENDING),
    ]


def test_changing_the_due_time_cancels_the_old_reminders_and_schedules_new_ones(users, item):
    old_due, new_due = item.due_at, item.due_at + timedelta(days=3)
    lead = timedelta(hours=item.engagement.reminder_lead_hours)

    move(users, item, new_due)

    assert reminders(item) == [
        (ReminderKind.BREACH, old_due, old_due, ReminderStatus.CANCELLED),
        (ReminderKind.BREACH, new_due, new_due, ReminderStatus.PENDING),
        (ReminderKind.DUE_SOON, old_due, old_due - lead, ReminderStatus.CANCELLED),
        (ReminderKind.DUE_SOON, new_due, new_due - lead, ReminderStatus.PENDING),
    ]


def test_after_a_due_time_change_only_the_new_due_time_breaches(users, item):
    old_due, new_due = item.due_at, item.due_at + timedelta(days=3)
    move(users, item, new_due)

    run_sla_sweep(now=old_due + timedelta(hours=1))
    assert told(item, K.DELIVERABLE_BREACHED) == []

    run_sla_sweep(now=new_due + TICK)
    assert told(item, K.DELIVERABLE_BREACHED) == ["alpha.manager", "bio.lead"]


def test_each_due_time_is_reminded_once_even_if_the_plan_returns_to_it(users, item):
    first_due, second_due = item.due_at, item.due_at + timedelta(days=3)
    run_sla_sweep(now=first_due + TICK)  # the first due time breaches
    move(users, item, second_due)
    run_sla_sweep(now=second_due + TICK)  # and so does the second
    assert len(told(item, K.DELIVERABLE_BREACHED)) == 4

    move(users, item, first_due)  # back to a due time already escalated
    result = run_sla_sweep(now=second_due + timedelta(days=1))

    assert result.get("fired", 0) == 0
    assert len(told(item, K.DELIVERABLE_BREACHED)) == 4
    breach = SlaReminder.objects.get(deliverable=item, kind=ReminderKind.BREACH, due_time=first_due)
    assert breach.status == ReminderStatus.SENT
    assert told(item, K.DELIVERABLE_DUE_SOON) == []


def test_a_reminder_cancelled_by_a_change_of_plan_comes_back_with_the_plan(users, item):
    first_due = item.due_at
    lead = timedelta(hours=item.engagement.reminder_lead_hours)
    move(users, item, first_due + timedelta(days=3))

    move(users, item, first_due)
    run_sla_sweep(now=first_due - lead)

    assert told(item, K.DELIVERABLE_DUE_SOON) == ["bio.analyst", "bio.lead"]


def test_cancelling_a_deliverable_cancels_its_reminders(users, item):
    services.deliverable_cancel(actor=users.alpha_manager, deliverable=item)

    run_sla_sweep(now=item.due_at + timedelta(days=1))

    assert {status for *_, status in reminders(item)} == {ReminderStatus.CANCELLED}
    assert Notification.objects.filter(deliverable=item, kind__in=SLA_KINDS).count() == 0


def test_a_reminder_the_service_missed_is_cancelled_by_the_sweep_not_sent(item):
    # A safety net: the row says the work is due, but the deliverable has moved on.
    type(item).objects.filter(pk=item.pk).update(status="cancelled")

    run_sla_sweep(now=item.due_at + timedelta(days=1))

    assert told(item, K.DELIVERABLE_BREACHED) == []
    assert {status for *_, status in reminders(item)} == {ReminderStatus.CANCELLED}


def test_terminating_the_engagement_cancels_the_reminders_of_its_open_work(users, engagements):
    engagement = engagements.phase_two
    assert SlaReminder.objects.filter(
        deliverable__engagement=engagement, status=ReminderStatus.PENDING
    ).exists()

    engagement_services.engagement_terminate(actor=users.alpha_manager, engagement=engagement)

    left = SlaReminder.objects.filter(
        deliverable__engagement=engagement, status=ReminderStatus.PENDING
    )
    assert left.count() == 0
    run_sla_sweep(now=timezone.now() + timedelta(days=60))
    assert Notification.objects.filter(engagement=engagement, kind__in=SLA_KINDS).count() == 0
