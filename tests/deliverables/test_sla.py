"""Boundaries of the SLA state, a pure function of the dates and the reminder lead."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deliverables import sla
from deliverables.choices import SlaState

DUE = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
LEAD_HOURS = 24
TICK = timedelta(microseconds=1)


def test_exactly_at_the_due_time_is_not_yet_breached():
    assert sla.open_state(DUE, LEAD_HOURS, now=DUE) == SlaState.AT_RISK


def test_one_microsecond_after_the_due_time_is_breached():
    assert sla.open_state(DUE, LEAD_HOURS, now=DUE + TICK) == SlaState.BREACHED


def test_exactly_when_the_reminder_lead_begins_is_at_risk():
    start = DUE - timedelta(hours=LEAD_HOURS)

    assert sla.open_state(DUE, LEAD_HOURS, now=start) == SlaState.AT_RISK


def test_one_microsecond_before_the_reminder_lead_is_on_track():
    start = DUE - timedelta(hours=LEAD_HOURS)

    assert sla.open_state(DUE, LEAD_HOURS, now=start - TICK) == SlaState.ON_TRACK


@pytest.mark.parametrize(("lead", "hours_left"), [(1, 1), (48, 48), (720, 720)])
def test_the_lead_time_is_the_engagements_own(lead, hours_left):
    now = DUE - timedelta(hours=hours_left)

    assert sla.open_state(DUE, lead, now=now) == SlaState.AT_RISK
    assert sla.open_state(DUE, lead, now=now - TICK) == SlaState.ON_TRACK


def test_delivered_exactly_at_the_due_time_is_met():
    assert sla.delivered_state(DUE, delivered_at=DUE) == SlaState.MET


def test_delivered_one_microsecond_late_is_missed():
    assert sla.delivered_state(DUE, delivered_at=DUE + TICK) == SlaState.MISSED


def test_delivered_early_is_met():
    assert sla.delivered_state(DUE, delivered_at=DUE - timedelta(days=3)) == SlaState.MET


def test_the_same_instant_in_another_time_zone_is_the_same_due_time():
    same_instant = DUE.astimezone(ZoneInfo("Asia/Kolkata"))

    assert sla.delivered_state(DUE, delivered_at=same_instant) == SlaState.MET
    assert sla.open_state(DUE, LEAD_HOURS, now=same_instant) == SlaState.AT_RISK
