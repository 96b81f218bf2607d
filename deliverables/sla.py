"""SLA state of one deliverable, as a pure function of its dates and the engagement's terms."""

from datetime import datetime, timedelta

from .choices import SlaState


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
