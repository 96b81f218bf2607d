"""Cancelling: from any open state, never from a finished one."""

import pytest

from deliverables import services
from deliverables.choices import OPEN_STATUSES, DeliverableStatus
from kpo.audit.models import AuditEvent
from kpo.domain import ActionNotAllowed, InvalidTransition

S = DeliverableStatus


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_an_open_deliverable_can_be_cancelled_from_each_state(users, deliverable_in, status):
    item = deliverable_in(status)

    services.deliverable_cancel(actor=users.alpha_manager, deliverable=item, reason="Descoped")

    item.refresh_from_db()
    assert item.status == S.CANCELLED
    event = AuditEvent.objects.filter(action="deliverable.cancel", target_id=str(item.pk)).get()
    assert event.changes == {"status": [status, S.CANCELLED], "reason": "Descoped"}


@pytest.mark.parametrize("status", [S.ACCEPTED, S.REJECTED, S.CANCELLED])
def test_a_finished_deliverable_cannot_be_cancelled(users, deliverable_in, snapshot, status):
    item = deliverable_in(status)
    before = snapshot(item)

    with pytest.raises(InvalidTransition):
        services.deliverable_cancel(actor=users.alpha_manager, deliverable=item)

    assert snapshot(item) == before


def test_the_accepted_demo_plan_cannot_be_cancelled(users, deliverable, snapshot):
    plan = deliverable("Statistical analysis plan")
    before = snapshot(plan)

    with pytest.raises(InvalidTransition):
        services.deliverable_cancel(actor=users.alpha_manager, deliverable=plan)

    assert snapshot(plan) == before


@pytest.mark.parametrize("username", ["bio.analyst", "alpha.viewer"])
def test_analysts_and_viewers_cannot_cancel(users, deliverable, snapshot, username):
    planned = deliverable("Subgroup response analysis")
    before = snapshot(planned)

    with pytest.raises(ActionNotAllowed):
        services.deliverable_cancel(actor=users[username], deliverable=planned)

    assert snapshot(planned) == before
