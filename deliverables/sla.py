"""The SLA engine: deliverable SLA states, the reminders each change schedules, and the sweep
that fires the reminders that have come due.

Services call `schedule_*` / `cancel_reminders` inside their own transaction, so a reminder
row exists exactly when the change that makes it due has committed. The sweep finds due rows
with one indexed query, claims them in chunks and fires each chunk in one transaction: if a
worker dies half-way the chunk rolls back and is fired by the next sweep, and a sweep running
twice (or concurrently) finds nothing left to claim.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from engagements.choices import EngagementStatus
from kpo.accounts.choices import Role
from kpo.audit.services import audit_record_many
from kpo.notifications.choices import NotificationKind
from kpo.notifications.services import Event, publish

from .choices import (
    DELIVERY_REMINDERS,
    REVIEW_REMINDERS,
    UNDELIVERED_STATUSES,
    DeliverableStatus,
    ReminderKind,
    ReminderStatus,
    SlaState,
)
from .models import Deliverable, SlaReminder


def delivered_state(due_at: datetime, delivered_at: datetime) -> str:
    """A delivery exactly at the due time is on time."""
    return SlaState.MET if delivered_at <= due_at else SlaState.MISSED


def open_state(due_at: datetime, reminder_lead_hours: int, now: datetime) -> str:
    """`breached` once past due (exactly at the due time is not yet late); `at_risk` from the
    moment the reminder lead time begins; `on_track` before that."""
    if now > due_at:
        return SlaState.BREACHED
    if now >= due_at - timedelta(hours=reminder_lead_hours):
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


# Scheduling, called by services inside their transaction.


def _ensure(deliverable, kind, due_time, fire_at) -> None:
    reminder, created = SlaReminder.objects.get_or_create(
        deliverable=deliverable,
        kind=kind,
        due_time=due_time,
        defaults={"fire_at": fire_at},
    )
    # Once per due time: a reminder already sent for this due time is never sent again, but
    # one cancelled by an earlier change of plan comes back if the plan comes back.
    if not created and reminder.status == ReminderStatus.CANCELLED:
        reminder.status, reminder.fire_at = ReminderStatus.PENDING, fire_at
        reminder.save(update_fields=["status", "fire_at"])


def cancel_reminders(deliverable, kinds) -> int:
    return SlaReminder.objects.filter(
        deliverable=deliverable, kind__in=kinds, status=ReminderStatus.PENDING
    ).update(status=ReminderStatus.CANCELLED)


def schedule_delivery_reminders(deliverable) -> None:
    """Due-soon at the start of the reminder lead time, breach at the due time."""
    cancel_reminders(deliverable, DELIVERY_REMINDERS)
    if deliverable.delivered_at is not None:
        return
    lead = timedelta(hours=deliverable.engagement.reminder_lead_hours)
    _ensure(deliverable, ReminderKind.DUE_SOON, deliverable.due_at, deliverable.due_at - lead)
    _ensure(deliverable, ReminderKind.BREACH, deliverable.due_at, deliverable.due_at)


def schedule_review_reminders(deliverable) -> None:
    """Remind the client manager at half the review turnaround, escalate at the end of it."""
    cancel_reminders(deliverable, REVIEW_REMINDERS)
    turnaround = timedelta(hours=deliverable.engagement.review_turnaround_hours)
    deadline = deliverable.review_started_at + turnaround
    _ensure(
        deliverable,
        ReminderKind.REVIEW_PENDING,
        deadline,
        deliverable.review_started_at + turnaround / 2,
    )
    _ensure(deliverable, ReminderKind.REVIEW_OVERDUE, deadline, deadline)


def shift_pending_reminders(engagement, by: timedelta, kinds) -> int:
    """A hold moves the engagement's pending reminders of `kinds` by its length."""
    return SlaReminder.objects.filter(
        deliverable__engagement=engagement,
        status=ReminderStatus.PENDING,
        kind__in=kinds,
    ).update(fire_at=F("fire_at") + by, due_time=F("due_time") + by)


def reschedule_due_soon(engagement) -> int:
    """The reminder lead time changed: move the pending due-soon reminders with it."""
    lead = timedelta(hours=engagement.reminder_lead_hours)
    return SlaReminder.objects.filter(
        deliverable__engagement=engagement,
        kind=ReminderKind.DUE_SOON,
        status=ReminderStatus.PENDING,
    ).update(fire_at=F("due_time") - lead)


# The sweep.


def due_reminders(now):
    """THE query of the sweep: pending reminders that have come due, of active engagements.
    A breach fires only after the due time (exactly at it, the work is not late)."""
    return SlaReminder.objects.filter(
        Q(kind=ReminderKind.BREACH, fire_at__lt=now)
        | (~Q(kind=ReminderKind.BREACH) & Q(fire_at__lte=now)),
        status=ReminderStatus.PENDING,
        deliverable__engagement__status=EngagementStatus.ACTIVE,
    )


def run_sla_sweep(now=None, chunk_size: int = 500) -> dict:
    """Fire every reminder that has come due, chunk by chunk. Safe to run twice or at once."""
    now = now or timezone.now()
    totals = defaultdict(int)
    while True:
        fired = _fire_chunk(now, chunk_size)
        if fired is None:
            break
        for key, value in fired.items():
            totals[key] += value
    return dict(totals)


@transaction.atomic
def _fire_chunk(now, chunk_size):
    # Concurrent sweeps skip each other's rows instead of waiting for them.
    ids = list(
        due_reminders(now)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("fire_at", "id")
        .values_list("pk", flat=True)[:chunk_size]
    )
    if not ids:
        return None
    SlaReminder.objects.filter(pk__in=ids, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.SENDING
    )
    reminders = list(
        SlaReminder.objects.filter(pk__in=ids, status=ReminderStatus.SENDING).select_related(
            "deliverable__engagement__client",
            "deliverable__engagement__provider",
            "deliverable__engagement__client_manager",
            "deliverable__engagement__provider_lead",
            "deliverable__assignee",
        )
    )
    people = _People([r.deliverable.engagement for r in reminders])
    events, at_risk, breached, stale = [], [], [], []
    for reminder in reminders:
        deliverable = reminder.deliverable
        if not _still_applies(reminder, now):
            stale.append(reminder.pk)
            continue
        events.append(_event_for(reminder, people))
        if reminder.kind == ReminderKind.DUE_SOON:
            at_risk.append(deliverable.pk)
        elif reminder.kind == ReminderKind.BREACH:
            breached.append(deliverable)
    Deliverable.objects.filter(pk__in=at_risk, sla_state=SlaState.ON_TRACK).update(
        sla_state=SlaState.AT_RISK
    )
    newly_breached = list(
        Deliverable.objects.filter(pk__in=[d.pk for d in breached])
        .exclude(sla_state=SlaState.BREACHED)
        .values_list("pk", flat=True)
    )
    Deliverable.objects.filter(pk__in=newly_breached).update(sla_state=SlaState.BREACHED)
    # Every breach that fires is audited, also when a service had already marked the
    # deliverable breached (planned, or moved to a due time, in the past): the escalation is
    # the event, and it fires once per due time.
    audit_record_many(
        [
            {
                "actor": None,
                "action": "deliverable.breached",
                "target": deliverable,
                "engagement": deliverable.engagement,
                "changes": {
                    "sla_state": [deliverable.sla_state, SlaState.BREACHED],
                    "due_at": deliverable.due_at,
                },
            }
            for deliverable in breached
        ]
    )
    outbox = publish(events)
    SlaReminder.objects.filter(pk__in=stale).update(status=ReminderStatus.CANCELLED)
    SlaReminder.objects.filter(pk__in=ids, status=ReminderStatus.SENDING).update(
        status=ReminderStatus.SENT, sent_at=now
    )
    return {
        "fired": len(events),
        "cancelled": len(stale),
        "breached": len(newly_breached),
        "outbox": outbox,
    }


def _still_applies(reminder, now) -> bool:
    """A safety net for reminders a service should already have cancelled, and no due-soon
    noise for work that is already late (the breach speaks for it)."""
    deliverable = reminder.deliverable
    if reminder.kind in DELIVERY_REMINDERS:
        if deliverable.status not in UNDELIVERED_STATUSES or deliverable.delivered_at:
            return False
        if deliverable.due_at != reminder.due_time:
            return False
        return not (reminder.kind == ReminderKind.DUE_SOON and now > reminder.due_time)
    if deliverable.status != DeliverableStatus.IN_REVIEW or not deliverable.review_started_at:
        return False
    turnaround = timedelta(hours=deliverable.engagement.review_turnaround_hours)
    return deliverable.review_started_at + turnaround == reminder.due_time


class _People:
    """Who to tell, for a whole chunk of engagements, in a fixed number of queries."""

    def __init__(self, engagements):
        User = get_user_model()
        engagement_ids = {e.pk for e in engagements}
        self.team_leads = defaultdict(list)
        for lead in User.objects.filter(
            led_teams__engagements__in=engagement_ids, is_active=True
        ).annotate(engagement_id=F("led_teams__engagements")):
            self.team_leads[lead.engagement_id].append(lead)
        admins = User.objects.filter(is_active=True).filter(
            Q(role=Role.CLIENT_ADMIN, client_id__in={e.client_id for e in engagements})
            | Q(role=Role.PROVIDER_ADMIN, provider_id__in={e.provider_id for e in engagements})
        )
        self.client_admins, self.provider_admins = defaultdict(list), defaultdict(list)
        for admin in admins:
            if admin.client_id:
                self.client_admins[admin.client_id].append(admin)
            else:
                self.provider_admins[admin.provider_id].append(admin)

    def client_side(self, engagement):
        return (
            [engagement.client_manager]
            if engagement.client_manager_id
            else (self.client_admins[engagement.client_id])
        )

    def provider_side(self, engagement):
        return (
            [engagement.provider_lead]
            if engagement.provider_lead_id
            else (self.provider_admins[engagement.provider_id])
        )


def _recipients(reminder, people) -> list:
    deliverable = reminder.deliverable
    engagement = deliverable.engagement
    if reminder.kind == ReminderKind.DUE_SOON:
        users = [deliverable.assignee, *people.team_leads[engagement.pk]]
        return users if any(users) else people.provider_side(engagement)
    if reminder.kind == ReminderKind.BREACH:
        return [*people.provider_side(engagement), *people.client_side(engagement)]
    if reminder.kind == ReminderKind.REVIEW_PENDING:
        return people.client_side(engagement)
    return people.client_admins[engagement.client_id] or people.client_side(engagement)


_TEXT = {
    ReminderKind.DUE_SOON: (
        NotificationKind.DELIVERABLE_DUE_SOON,
        "Due soon: {title}",
        "Due {due:%d %b %Y %H:%M} UTC · {reference}",
    ),
    ReminderKind.BREACH: (
        NotificationKind.DELIVERABLE_BREACHED,
        "Overdue: {title}",
        "Was due {due:%d %b %Y %H:%M} UTC · {reference}",
    ),
    ReminderKind.REVIEW_PENDING: (
        NotificationKind.REVIEW_PENDING,
        "Awaiting your review: {title}",
        "Review due by {due:%d %b %Y %H:%M} UTC · {reference}",
    ),
    ReminderKind.REVIEW_OVERDUE: (
        NotificationKind.REVIEW_OVERDUE,
        "Review overdue: {title}",
        "Review was due {due:%d %b %Y %H:%M} UTC · {reference}",
    ),
}


def _event_for(reminder, people) -> Event:
    deliverable = reminder.deliverable
    kind, title, body = _TEXT[reminder.kind]
    values = {
        "title": deliverable.title,
        "due": reminder.due_time,
        "reference": deliverable.engagement.reference,
    }
    seen, recipients = set(), []
    for user in _recipients(reminder, people):
        if user is not None and user.is_active and user.pk not in seen:
            seen.add(user.pk)
            recipients.append(user)
    return Event(
        kind=kind,
        title=title.format(**values),
        body=body.format(**values),
        engagement=deliverable.engagement,
        deliverable=deliverable,
        recipients=recipients,
        key=f"sla:{reminder.kind}:{deliverable.pk}:{reminder.due_time.timestamp():.6f}",
    )
