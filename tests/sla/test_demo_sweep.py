"""The sweep on the demo data, at the real time: the breached "Data cleaning log" escalates,
the at-risk "Safety signal memo" reminds, each once, however often the sweep runs."""

from deliverables.choices import ReminderKind, ReminderStatus, SlaState
from deliverables.models import Deliverable, SlaReminder
from deliverables.sla import run_sla_sweep
from kpo.audit.models import AuditEvent
from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.models import Notification, OutboxMessage

from .conftest import told


def test_the_breached_deliverable_escalates_to_its_provider_lead_and_client_manager(deliverable):
    run_sla_sweep()

    log = deliverable("Data cleaning log")
    assert told(log, K.DELIVERABLE_BREACHED) == ["alpha.manager", "bio.lead"]


def test_the_breached_deliverable_gets_no_due_soon_reminder_on_top(deliverable):
    run_sla_sweep()

    log = deliverable("Data cleaning log")
    assert told(log, K.DELIVERABLE_DUE_SOON) == []
    due_soon = SlaReminder.objects.get(deliverable=log, kind=ReminderKind.DUE_SOON)
    assert due_soon.status == ReminderStatus.CANCELLED


def test_the_at_risk_deliverable_reminds_its_assignee_and_team_lead(deliverable):
    run_sla_sweep()

    memo = deliverable("Safety signal memo")
    assert told(memo, K.DELIVERABLE_DUE_SOON) == ["bio.analyst", "bio.lead"]
    assert told(memo, K.DELIVERABLE_BREACHED) == []


def test_nothing_else_in_the_demo_is_due_yet(deliverable):
    result = run_sla_sweep()

    assert result["fired"] == 2
    fired = set(
        Notification.objects.filter(
            kind__in=[
                K.DELIVERABLE_DUE_SOON,
                K.DELIVERABLE_BREACHED,
                K.REVIEW_PENDING,
                K.REVIEW_OVERDUE,
            ]
        ).values_list("deliverable__title", "kind")
    )
    assert fired == {
        ("Data cleaning log", K.DELIVERABLE_BREACHED),
        ("Safety signal memo", K.DELIVERABLE_DUE_SOON),
    }


def test_a_second_sweep_creates_nothing_more(deliverable):
    run_sla_sweep()
    before = (
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        AuditEvent.objects.count(),
        list(SlaReminder.objects.order_by("pk").values_list("pk", "status")),
    )

    second = run_sla_sweep()

    assert second == {}
    after = (
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        AuditEvent.objects.count(),
        list(SlaReminder.objects.order_by("pk").values_list("pk", "status")),
    )
    assert after == before
    assert len(told(deliverable("Data cleaning log"), K.DELIVERABLE_BREACHED)) == 2


def test_the_fired_reminders_are_marked_sent(deliverable):
    run_sla_sweep()

    sent = set(
        SlaReminder.objects.filter(status=ReminderStatus.SENT).values_list(
            "deliverable__title", "kind"
        )
    )
    assert sent == {
        ("Data cleaning log", ReminderKind.BREACH),
        ("Safety signal memo", ReminderKind.DUE_SOON),
    }


def test_the_sweep_keeps_the_sla_state_current(deliverable):
    # As if both had been planned long ago, when they were still on track.
    Deliverable.objects.filter(title__in=["Data cleaning log", "Safety signal memo"]).update(
        sla_state=SlaState.ON_TRACK
    )

    run_sla_sweep()

    assert deliverable("Data cleaning log").sla_state == SlaState.BREACHED
    assert deliverable("Safety signal memo").sla_state == SlaState.AT_RISK


def test_the_breach_is_audited_once(deliverable):
    log = deliverable("Data cleaning log")

    run_sla_sweep()
    run_sla_sweep()

    events = AuditEvent.objects.filter(action="deliverable.breached", target_id=str(log.pk))
    assert events.count() == 1
    event = events.get()
    assert event.actor is None
    assert event.engagement_id == log.engagement_id
    assert event.changes["sla_state"][1] == SlaState.BREACHED
