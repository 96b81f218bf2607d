"""Failure drill: a Celery worker is SIGKILLed in the middle of the daily digest, a long task
when many people chose the digest. The task is not lost (acks late: Redis keeps it
unacknowledged), nothing of the half-done run is kept (one transaction), and after a new
worker starts the task comes back and completes once: every reader gets exactly one digest.

Also the case a redelivery makes possible: the digest running twice at once (the first run
still going when its message comes back, or a doubled beat tick), with a notification
arriving in between. Each reader still gets one digest, and the late notification goes into
the next one.

The digest is slowed down, held and watched by a trigger on the private database (Brake);
nothing of the app is changed for the drill."""

from collections import Counter

import pytest
import redis

from kpo.notifications.tasks import send_daily_digests
from tests.sla_worker.support import SEND_OUTBOX, TASK_SUCCEEDED, message_id

from .servers import wait_for
from .support import assert_each_sent_once, load, outbox_summary

pytestmark = pytest.mark.drills

DIGEST = send_daily_digests
READERS = 120
SECONDS_PER_READER = 0.03  # about 3.6 s for the whole run
VISIBILITY_TIMEOUT = 4


class Brake:
    """A trigger on the private database that runs for each user the digest marks as
    digested: it counts them in a sequence (outside transactions, so the drill sees the
    progress of an uncommitted run), sleeps `seconds`, and while the brake is held waits."""

    def __init__(self, sql, *, seconds: float = 0.0, held: bool = False):
        self.sql = sql
        sql.rows("DROP SEQUENCE IF EXISTS drill_digest_progress")
        sql.rows("CREATE SEQUENCE drill_digest_progress")
        sql.rows("DROP TABLE IF EXISTS drill_brake")
        sql.rows("CREATE TABLE drill_brake (held boolean, seconds float)")
        sql.rows("INSERT INTO drill_brake VALUES (%s, %s)", (held, seconds))
        sql.rows(
            "CREATE OR REPLACE FUNCTION drill_brake() RETURNS trigger AS $$ BEGIN "
            "PERFORM nextval('drill_digest_progress'); "
            "WHILE (SELECT held FROM drill_brake) LOOP PERFORM pg_sleep(0.02); END LOOP; "
            "PERFORM pg_sleep((SELECT seconds FROM drill_brake)); "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        sql.rows(
            "CREATE TRIGGER drill_brake BEFORE UPDATE OF digested_notification_id "
            "ON accounts_user FOR EACH ROW EXECUTE FUNCTION drill_brake()"
        )

    def __enter__(self) -> "Brake":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def progress(self) -> int:
        value, called = self.sql.rows("SELECT last_value, is_called FROM drill_digest_progress")[0]
        return value if called else 0

    def release(self) -> None:
        self.sql.rows("UPDATE drill_brake SET held = false, seconds = 0")

    def remove(self) -> None:
        self.release()
        self.sql.rows("DROP TRIGGER IF EXISTS drill_brake ON accounts_user")


def waiting_for_a_lock(sql) -> int:
    return sql.value(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )


def other_sessions(sql) -> int:
    return sql.value(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )


def digests(sql, readers) -> list[dict]:
    rows = sql.rows(
        "SELECT o.id, o.key, o.status, o.attempts, u.email "
        "FROM notifications_outboxmessage o JOIN accounts_user u ON u.id = o.user_id "
        "WHERE o.event = 'daily_digest' AND o.user_id = ANY(%s) ORDER BY o.id",
        (list(readers),),
    )
    names = ("id", "key", "status", "attempts", "email")
    return [dict(zip(names, row, strict=True)) for row in rows]


def digested_upto(sql, readers) -> set:
    return {
        value
        for (value,) in sql.rows(
            "SELECT digested_notification_id FROM accounts_user WHERE id = ANY(%s)",
            (list(readers),),
        )
    }


def unacknowledged(stack) -> int:
    client = redis.Redis.from_url(stack.broker_url, socket_timeout=5)
    try:
        return client.hlen("unacked")
    finally:
        client.close()


def digest_runs(stack) -> list:
    """The return value of every digest run the workers finished, repeats included."""
    return [
        match["result"]
        for worker in stack.workers
        for match in TASK_SUCCEEDED.finditer(worker.log())
        if match["task"] == DIGEST.name
    ]


def digest_mails(stack) -> dict:
    """Digest e-mails written, by Message-ID: (recipient, subject)."""
    return {
        message["Message-ID"].strip(): (message["To"], message["Subject"])
        for message in stack.mailbox.messages()
        if message["Subject"].startswith("Your KPO digest")
    }


def test_a_worker_killed_mid_digest_keeps_nothing_and_after_restart_each_reader_gets_one_digest(
    servers, stack, sql
):
    readers = load(stack.environment(), "digest-readers", count=READERS, prefix="killed")["ids"]
    env = {"DRILL_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT}
    with Brake(sql, seconds=SECONDS_PER_READER) as brake:
        [first] = stack.start_workers(concurrency=2, **env)
        stack.send(DIGEST)
        wait_for(
            lambda: brake.progress() >= READERS // 3,
            timeout=60,
            what="the digest a third of the way through",
            log=first.log,
        )
        first.kill()
        killed_at = brake.progress()
        wait_for(lambda: other_sessions(sql) == 0, timeout=15, what="the killed sessions ending")

    # Killed mid-task: nothing of the run was kept, and its message waits in Redis.
    assert killed_at < READERS, "the digest was through before the kill: make it slower"
    assert digests(sql, readers) == []
    assert digested_upto(sql, readers) == {0}
    assert unacknowledged(stack) == 1
    assert digest_runs(stack) == []

    # A new worker: once the visibility timeout has passed, Redis gives the task back.
    stack.start_workers(concurrency=2, **env)
    stack.wait_until(
        lambda: (
            len(digests(sql, readers)) == READERS
            and {row["status"] for row in digests(sql, readers)} == {"sent"}
        ),
        timeout=60,
        every={SEND_OUTBOX: 1.0},
        what=lambda: f"the digests after the restart: {len(digests(sql, readers))} rows",
    )
    stack.wait_until(lambda: unacknowledged(stack) == 0, timeout=15, what="the ack")

    # The task completed exactly once, and each reader has one digest, sent once.
    assert digest_runs(stack) == [str(READERS)]
    rows = digests(sql, readers)
    assert_each_sent_once(rows, stack.mailbox.message_ids())
    mails = digest_mails(stack)
    emails = dict(sql.rows("SELECT id, email FROM accounts_user WHERE id = ANY(%s)", (readers,)))
    assert sorted(to for to, _ in mails.values()) == sorted(emails.values())
    assert {subject for _, subject in mails.values()} == {
        "Your KPO digest: 2 unread notification(s)"
    }

    # The next tick finds nothing more to digest or send.
    again = stack.run_once_more(DIGEST, SEND_OUTBOX)
    assert again[DIGEST] == 0
    assert again[SEND_OUTBOX]["sent"] == 0
    assert stack.mailbox.message_ids() == Counter({message_id(r["key"]): 1 for r in rows})
    print(
        f"\nworker killed after {killed_at}/{READERS} readers; digest completed once after "
        f"restart; {len(rows)} digests, each sent once; {outbox_summary(sql)}"
    )


def test_two_digest_runs_at_once_still_mail_each_reader_one_digest_and_lose_nothing(
    servers, stack, sql
):
    readers = load(stack.environment(), "digest-readers", count=READERS, prefix="twice")["ids"]
    late = readers[::20]
    with Brake(sql, held=True) as brake:
        stack.start_workers(concurrency=2)
        stack.send(DIGEST)
        # The first run has read what is pending and holds the first reader's row.
        wait_for(lambda: brake.progress() >= 1, timeout=60, what="the first run under way")
        # A notification arrives after the first run read what is pending, and before the
        # second run (a redelivery, a doubled beat tick) reads it. The second run waits for
        # the first one's row locks.
        load(stack.environment(), "notify-again", user_ids=late, title="Late update")
        stack.send(DIGEST)
        wait_for(lambda: waiting_for_a_lock(sql), timeout=60, what="the second run waiting")
        brake.release()
        stack.wait_until(
            lambda: len(digest_runs(stack)) == 2,
            timeout=60,
            every={SEND_OUTBOX: 1.0},
            what="both digest runs",
        )
    stack.wait_until(
        lambda: {row["status"] for row in digests(sql, readers)} == {"sent"},
        timeout=60,
        every={SEND_OUTBOX: 1.0},
        what="the digests sent",
    )

    # Each reader got one digest: the first run wrote them all, the second found them taken.
    emails = [
        e for (e,) in sql.rows("SELECT email FROM accounts_user WHERE id = ANY(%s)", (readers,))
    ]
    assert Counter(to for to, _ in digest_mails(stack).values()) == Counter(emails)
    rows = digests(sql, readers)
    assert len(rows) == READERS
    assert_each_sent_once(rows, stack.mailbox.message_ids())
    assert sorted(digest_runs(stack)) == ["0", str(READERS)]

    # Nothing lost: the late notification is in the next digest, alone.
    assert stack.run_once_more(DIGEST)[DIGEST] == len(late)
    stack.wait_until(
        lambda: {row["status"] for row in digests(sql, readers)} == {"sent"},
        timeout=60,
        every={SEND_OUTBOX: 1.0},
        what="the next digests sent",
    )
    rows = digests(sql, readers)
    assert len(rows) == READERS + len(late)
    assert_each_sent_once(rows, stack.mailbox.message_ids())
    subjects = Counter(subject for _, subject in digest_mails(stack).values())
    assert subjects == Counter(
        {
            "Your KPO digest: 2 unread notification(s)": READERS,
            "Your KPO digest: 1 unread notification(s)": len(late),
        }
    )
