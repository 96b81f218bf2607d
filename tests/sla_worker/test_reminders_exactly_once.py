"""DESIGN.md, "SLA engine (Celery)": a real `celery -A kpo worker` against Redis and the test
database fires every due reminder once and sends every e-mail once — with one sweep, with
two sweeps at once on two workers, and when the worker is SIGKILLed in the middle of the
batch and started again."""

from deliverables.models import SlaReminder
from kpo.notifications.choices import OutboxStatus
from kpo.notifications.models import OutboxMessage

from .support import (
    SEND_OUTBOX,
    SWEEP,
    assert_sent_exactly_once,
    live_marks,
    load_is_done,
    load_summary,
    plan_load,
    wait_for_other_sessions_to_end,
)

pytestmark = live_marks()

DELIVERABLES = 300
# More due reminders than one sweep chunk (500: 170 late deliverables have a breach and a
# stale due-soon, 170 a due-soon), so that two sweeps at once have work to split.
DELIVERABLES_FOR_TWO_SWEEPS = 340
REMINDER_EMAILS = {"status": OutboxStatus.SENT, "key__startswith": "email:sla:"}


def fired_by_sweeps(stack) -> int:
    return sum(result["fired"] for result in stack.results(SWEEP).values() if result)


def test_a_real_worker_fires_each_due_reminder_once_and_mails_each_recipient_once(demo, stack):
    load = plan_load(DELIVERABLES)
    stack.start_workers(concurrency=2)

    stack.send(SWEEP)
    stack.send(SEND_OUTBOX)
    stack.wait_until(
        lambda: load_is_done(load), every={SEND_OUTBOX: 1.0}, what=lambda: load_summary(load)
    )

    assert_sent_exactly_once(load, stack.mailbox)
    # A later beat tick finds nothing left to fire or to send.
    again = stack.run_once_more(SWEEP, SEND_OUTBOX)
    assert again[SWEEP] == {}
    assert again[SEND_OUTBOX]["sent"] == 0
    assert_sent_exactly_once(load, stack.mailbox)
    # Every reminder the sweep fired was fired once (the demo's own due ones included).
    assert fired_by_sweeps(stack) == SlaReminder.objects.filter(status="sent").count()
    assert stack.errors() == []


def test_two_sweeps_at_once_on_two_workers_still_fire_and_mail_each_reminder_once(demo, stack):
    load = plan_load(DELIVERABLES_FOR_TWO_SWEEPS)
    stack.start_workers(count=2, concurrency=2)

    for task in (SWEEP, SWEEP, SEND_OUTBOX, SEND_OUTBOX):
        stack.send(task)
    stack.wait_until(
        lambda: load_is_done(load), every={SEND_OUTBOX: 0.5}, what=lambda: load_summary(load)
    )
    stack.wait_until(
        lambda: len(stack.results(SWEEP)) == 2, timeout=30, what="the second sweep to finish"
    )

    assert_sent_exactly_once(load, stack.mailbox)
    # Between them the two sweeps fired each due reminder exactly once.
    assert fired_by_sweeps(stack) == SlaReminder.objects.filter(status="sent").count()
    assert stack.errors() == []


def test_a_worker_killed_mid_batch_and_restarted_loses_nothing_and_repeats_nothing(demo, stack):
    load = plan_load(DELIVERABLES)
    [first] = stack.start_workers(concurrency=2)

    stack.send(SWEEP)
    stack.send(SEND_OUTBOX)
    # Kill as soon as the first reminder e-mails have gone out, well before all of them.
    stack.wait_until(
        lambda: OutboxMessage.objects.filter(**REMINDER_EMAILS).count() >= 10,
        poll=0.02,
        what="the first reminder e-mails",
    )
    first.kill()
    wait_for_other_sessions_to_end()

    # Mid-batch: some of the reminder e-mails are out, the others are not.
    assert (
        OutboxMessage.objects.filter(key__startswith="email:sla:")
        .exclude(status=OutboxStatus.SENT)
        .exists()
    ), "the batch was through before the kill: make it bigger"
    # Rows the killed worker had claimed and not marked sent. With the lease shortened, the
    # restarted worker takes them up again.
    stuck = set(
        OutboxMessage.objects.filter(status=OutboxStatus.SENDING).values_list("pk", flat=True)
    )

    stack.start_workers(concurrency=2, OUTBOX_LEASE_SECONDS=2)
    # The tasks the killed worker held stay unacknowledged in Redis until the visibility
    # timeout; as in production, the next beat ticks find the due work instead.
    stack.wait_until(
        lambda: load_is_done(load),
        every={SWEEP: 2.0, SEND_OUTBOX: 1.0},
        what=lambda: load_summary(load),
    )
    stack.run_once_more(SWEEP, SEND_OUTBOX)

    # A row killed between writing its e-mail and being marked sent is the one case where an
    # e-mail can go out twice: the outbox cannot know whether the write happened, and sends
    # again rather than lose it, under the same Message-ID so that mail systems can drop the
    # repeat. So: the rows left `sending` are sent again (attempts == 2), every other row
    # was sent exactly once, and only a row left `sending` may have been written twice.
    assert_sent_exactly_once(load, stack.mailbox, retaken=stuck)
    # ...and it was their lease running out that put them back.
    assert sum(r["requeued"] for r in stack.results(SEND_OUTBOX).values()) == len(stuck)
    assert stack.workers[1].errors() == []
