"""The sweep is set-based: its number of queries does not grow with the number of due
deliverables (within one chunk of 500)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliverables.choices import DeliverableStatus, ReminderKind, SlaState
from deliverables.models import Deliverable, SlaReminder
from deliverables.sla import run_sla_sweep
from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.models import Notification

INSERT_INTO = re.compile(r'^INSERT (?:OR IGNORE )?INTO\s+"?(\w+)"?', re.IGNORECASE)


@pytest.fixture
def seed_due(users, engagements):
    """`seed_due(n, now)`: n in-progress Phase II deliverables whose breach reminder came due
    an hour before `now`. Bulk inserts: these are the sweep's input, not what is tested."""
    engagement, analyst = engagements.phase_two, users.bio_analyst

    def seed(n, now):
        due = now - timedelta(hours=1)
        start = Deliverable.objects.count()
        items = Deliverable.objects.bulk_create(
            Deliverable(
                engagement=engagement,
                title=f"Site listing {start + i}",
                due_at=due,
                assignee=analyst,
                status=DeliverableStatus.IN_PROGRESS,
                sla_state=SlaState.ON_TRACK,
            )
            for i in range(n)
        )
        SlaReminder.objects.bulk_create(
            SlaReminder(deliverable=d, kind=ReminderKind.BREACH, due_time=due, fire_at=due)
            for d in items
        )
        return items

    return seed


def statements(queries) -> list[str]:
    """The statements of a sweep, with each bulk insert counted once. SQLite binds at most
    999 parameters per statement, so Django splits a bulk insert of many rows into
    consecutive batches there; PostgreSQL sends one statement."""
    out = []
    for query in queries:
        table = INSERT_INTO.match(query["sql"])
        if table and out and out[-1] == f"INSERT {table[1]}":
            continue
        out.append(f"INSERT {table[1]}" if table else query["sql"][:60])
    return out


def sweep_queries(now):
    with CaptureQueriesContext(connection) as ctx:
        result = run_sla_sweep(now=now)
    return result, ctx.captured_queries


def test_the_sweep_issues_the_same_queries_for_10_and_for_200_due_deliverables(seed_due):
    now = timezone.now()
    run_sla_sweep(now=now)  # what the demo has due, and warm caches

    seed_due(10, now)
    small, small_queries = sweep_queries(now)
    seed_due(200, now)
    large, large_queries = sweep_queries(now)

    assert (small["fired"], small["breached"]) == (10, 10)
    assert (large["fired"], large["breached"]) == (200, 200)
    assert len(statements(large_queries)) == len(statements(small_queries))
    if connection.vendor == "postgresql":
        assert len(large_queries) == len(small_queries)


def test_every_seeded_deliverable_is_escalated_once(seed_due):
    now = timezone.now()
    run_sla_sweep(now=now)
    items = seed_due(200, now)

    run_sla_sweep(now=now)
    run_sla_sweep(now=now)

    escalations = Notification.objects.filter(
        kind=K.DELIVERABLE_BREACHED, deliverable__in=items
    ).values_list("deliverable_id", "user__username")
    assert len(escalations) == 400
    assert set(escalations) == {
        (d.pk, username) for d in items for username in ("alpha.manager", "bio.lead")
    }


def test_a_sweep_larger_than_one_chunk_fires_everything_in_several_chunks(seed_due):
    now = timezone.now()
    run_sla_sweep(now=now)
    items = seed_due(25, now)

    with CaptureQueriesContext(connection) as ctx:
        result = run_sla_sweep(now=now, chunk_size=10)

    assert result["fired"] == 25
    assert (
        Deliverable.objects.filter(pk__in=[d.pk for d in items])
        .exclude(sla_state=SlaState.BREACHED)
        .count()
        == 0
    )
    # Three chunks and the empty look-up that ends the sweep: four claims of due rows.
    claims = [q for q in ctx.captured_queries if "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]]
    assert len(claims) == 4
