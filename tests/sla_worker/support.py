"""Real processes for the SLA engine tests: a Celery worker started with `celery -A kpo worker`
against Redis and the pytest-django test database, a stand-in for beat that publishes the
periodic tasks, and the e-mails the worker wrote (Django's file-based e-mail backend).

The worker runs in its own session (process group), so it and its pool children are killed
together, and always killed in teardown.
"""

import ast
import contextlib
import functools
import hashlib
import importlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from deliverables.choices import ReminderKind
from deliverables.models import SlaReminder
from deliverables.services import deliverable_plan
from deliverables.tasks import sla_sweep
from engagements.models import Engagement
from kpo.celery import app
from kpo.demo import DemoBuilder
from kpo.notifications.choices import Channel, NotificationKind, OutboxStatus
from kpo.notifications.models import Notification, OutboxMessage
from kpo.notifications.tasks import send_outbox

BASE_DIR = Path(settings.BASE_DIR)
# A Redis database of its own for the worker tests; each run also uses its own queue name.
REDIS_DB = int(os.environ.get("SLA_WORKER_REDIS_DB", "14"))
# The periodic tasks of CELERY_BEAT_SCHEDULE that these tests publish, as beat would.
SWEEP = sla_sweep
SEND_OUTBOX = send_outbox
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
MESSAGE_ID_LINE = re.compile(rb"^Message-ID:\s+(<[^>\s]+>)", re.MULTILINE)
TASK_SUCCEEDED = re.compile(
    r"Task (?P<task>[\w.]+)\[(?P<id>[0-9a-f-]+)\] succeeded in [0-9.e-]+s: (?P<result>.*)$",
    re.MULTILINE,
)


# -- when these tests can run -----------------------------------------------------------------


def worker_broker_url() -> str | None:
    """The app's Redis, on the database reserved for these tests."""
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    return urlunsplit(urlsplit(url)._replace(path=f"/{REDIS_DB}"))


@functools.cache
def _missing_service() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return (
            "needs DATABASE_URL=postgres://…: the worker is another process and must share "
            "the test database"
        )
    url = worker_broker_url()
    if url is None:
        return "needs REDIS_URL (or CELERY_BROKER_URL) set to a redis:// broker"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        return f"needs a reachable Redis at {url} ({error})"
    return None


def live_marks() -> list:
    """Marks of a module of real-worker tests: skipped (before any database set-up, so nothing
    is flushed) without PostgreSQL and Redis; otherwise transactional, since the worker
    only sees committed data."""
    missing = _missing_service()
    return [
        pytest.mark.skipif(missing is not None, reason=f"Real-worker test {missing}"),
        pytest.mark.django_db(transaction=True),
    ]


# -- the database -----------------------------------------------------------------------------


def seed_demo(*, cheap_passwords: bool = False) -> None:
    """The session's demo data, again. A transactional test ends with a flush that empties
    every table, including the service-line catalogue written by a data migration, so that
    comes back first; DemoBuilder is idempotent when the data is still there.

    `cheap_passwords` hashes the demo passwords with a fast hasher (most of the time of a
    rebuild otherwise), for tests that never check a password."""
    catalogue = importlib.import_module("vendors.migrations.0002_service_line_catalogue")
    catalogue.create_catalogue(django_apps, None)
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"] if cheap_passwords else None
    with override_settings(PASSWORD_HASHERS=hashers or settings.PASSWORD_HASHERS):
        DemoBuilder().build()


def worker_database_url() -> str:
    """A DATABASE_URL for the pytest-django test database (NAME is the test database).

    Commits of the worker do not wait for the WAL flush: a test database need not survive a
    server crash, and the outbox marks every e-mail with two commits. What other sessions
    see, and when, is unchanged."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "localhost", safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    options = {
        k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str | int | bool)
    }
    options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
    query = f"?{urlencode(options)}"
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}{query}"


def wait_for_other_sessions_to_end(timeout: float = 15) -> None:
    """Wait until this process is the only one connected to the test database: after a
    SIGKILL, the server may still finish a statement the dead worker had sent."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            if time.monotonic() > deadline:
                pytest.fail("The killed worker's database sessions did not end.")
            time.sleep(0.05)


# -- what the worker sent ---------------------------------------------------------------------


def message_id(outbox_key: str) -> str:
    """The Message-ID the outbox gives an e-mail: stable for the row, across retries."""
    return f"<{hashlib.sha256(outbox_key.encode()).hexdigest()}@kpo>"


class Mailbox:
    """The files of `django.core.mail.backends.filebased.EmailBackend`."""

    def __init__(self, path: Path):
        self.path = path

    def _files(self) -> list[bytes]:
        if not self.path.exists():
            return []
        return [f.read_bytes() for f in sorted(self.path.iterdir()) if f.is_file()]

    def message_ids(self) -> Counter:
        """How many times each Message-ID was written. Read from the header lines themselves,
        so it does not depend on how the messages are laid out in the files."""
        return Counter(
            match.decode() for data in self._files() for match in MESSAGE_ID_LINE.findall(data)
        )

    def messages(self) -> list:
        found = []
        for data in self._files():
            for chunk in data.split(MAIL_SEPARATOR):
                if chunk.strip():
                    found.append(message_from_bytes(chunk, policy=email_policy.default))
        return found


# -- the web process's broker ------------------------------------------------------------------


def _point_app(url: str, queue: str) -> None:
    app.conf.broker_url = url
    app.conf.task_default_queue = queue
    # Drop what the app cached for the previous broker and queue; it rebuilds them on use.
    app._pool = None
    app.amqp._producer_pool = None
    app.amqp.__dict__.pop("default_queue", None)


@contextlib.contextmanager
def web_broker(url: str, queue: str | None = None):
    """Point this process's Celery app — the one a web request wakes the senders with — at
    `url` (and `queue`), and back afterwards."""
    saved = (app.conf.broker_url, app.conf.task_default_queue)
    _point_app(url, queue or saved[1])
    try:
        yield
    finally:
        _point_app(*saved)


# -- the worker -------------------------------------------------------------------------------


class Worker:
    def __init__(self, name: str, queue: str, env: dict, log_path: Path, concurrency: int):
        self.name, self.queue, self.env = name, queue, env
        self.log_path, self.concurrency = log_path, concurrency
        self.process = None
        self._log_file = None

    def start(self) -> "Worker":
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "kpo",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "-Q",
                self.queue,
                "-n",
                f"{self.name}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(r" ready\.\s*$", self.log(), re.MULTILINE):
            if self.process.poll() is not None:
                pytest.fail(f"Worker {self.name} exited:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"Worker {self.name} not ready in {timeout}s:\n{self.log()[-4000:]}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def results(self, task) -> dict[str, object]:
        """Return values of the runs of `task` this worker finished, by task id."""
        return {
            m["id"]: ast.literal_eval(m["result"])
            for m in TASK_SUCCEEDED.finditer(self.log())
            if m["task"] == task.name
        }

    def errors(self) -> list[str]:
        return [
            line
            for line in self.log().splitlines()
            if "raised unexpected" in line or re.search(r"\b(ERROR|CRITICAL)/", line)
        ]

    def _signal_group(self, sig) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL to the worker and its pool children at once, as an OOM kill or a lost
        machine would do: no task gets to finish or to give its message back."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown, then SIGKILL for whatever of the process group is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the main process shuts its pool down
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self._signal_group(signal.SIGKILL)
        try:
            self.process.wait(timeout=10)
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None


class LiveStack:
    """Workers of one test and the broker and queue they share. While the stack is up, this
    process's Celery app publishes to that queue (see the `stack` fixture), so the tests
    enqueue with `task.delay()` and the outbox wake-ups of this process reach the workers."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.queue = f"sla-tests-{uuid.uuid4().hex[:12]}"
        self.broker_url = worker_broker_url()
        self.mailbox = Mailbox(directory / "mail")
        self.workers: list[Worker] = []

    def environment(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.sla_worker.worker_settings",
            SLA_TEST_QUEUE=self.queue,
            DATABASE_URL=worker_database_url(),
            DB_CONN_MAX_AGE="0",
            CELERY_BROKER_URL=self.broker_url,
            REDIS_URL=self.broker_url,
            VAR_DIR=str(self.directory / "var"),
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mailbox.path),
            DEBUG="false",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
        )
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start_workers(self, count: int = 1, concurrency: int = 2, **env) -> list[Worker]:
        """Start `count` worker processes together and wait until all of them consume."""
        started = []
        for _ in range(count):
            name = f"w{len(self.workers) + 1}-{self.queue}"
            worker = Worker(
                name,
                self.queue,
                self.environment(**env),
                self.directory / f"{name}.log",
                concurrency,
            )
            self.workers.append(worker)
            started.append(worker.start())
        for worker in started:
            worker.wait_ready()
        return started

    def send(self, task) -> str:
        """Enqueue a task as beat does, with no arguments."""
        return task.delay().id

    def results(self, task) -> dict[str, object]:
        found = {}
        for worker in self.workers:
            found.update(worker.results(task))
        return found

    def errors(self) -> list[str]:
        return [line for worker in self.workers for line in worker.errors()]

    def wait_until(
        self, done, *, timeout: float = 60, every: dict | None = None, what="", poll=0.2
    ):
        """Poll `done()` until it holds, publishing each task of `every` ({task: seconds}) on
        its own interval meanwhile: the beat of production, only faster."""
        every = every or {}
        last = dict.fromkeys(every, 0.0)
        deadline = time.monotonic() + timeout
        while True:
            if done():
                return
            now = time.monotonic()
            if now > deadline:
                logs = "\n".join(f"--- {w.name}\n{w.log()[-3000:]}" for w in self.workers)
                what = what() if callable(what) else what
                pytest.fail(f"Not done in {timeout}s: {what}\n{outbox_summary()}\n{logs}")
            for task, seconds in every.items():
                if now - last[task] >= seconds:
                    self.send(task)
                    last[task] = now
            time.sleep(poll)

    def run_once_more(self, *tasks, timeout: float = 30) -> dict:
        """Publish `tasks` again and wait until the workers have finished each of them."""
        ids = {task: self.send(task) for task in tasks}
        self.wait_until(
            lambda: all(task_id in self.results(task) for task, task_id in ids.items()),
            timeout=timeout,
            what=f"the repeated {', '.join(task.name for task in tasks)}",
        )
        return {task: self.results(task)[task_id] for task, task_id in ids.items()}

    def close(self) -> None:
        try:
            for worker in self.workers:
                worker.stop()
        finally:
            purge_queue(self.broker_url, self.queue)


def purge_queue(url: str, queue: str) -> None:
    """Remove a queue of these tests from Redis: its list, bindings and unacknowledged
    messages (those a SIGKILLed worker held)."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    marker = queue.encode()
    try:
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        for binding in client.scan_iter(match="_kombu.binding*"):
            for member in client.smembers(binding):
                if marker in member:
                    client.srem(binding, member)
        for tag, payload in client.hscan_iter("unacked"):
            if marker in payload:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


def outbox_summary() -> str:
    counts = Counter(OutboxMessage.objects.values_list("status", flat=True))
    return f"outbox by status: {dict(counts)}"


# -- the load: many deliverables whose reminders are due --------------------------------------


@dataclass
class Load:
    """Deliverables planned through the service, half already late (their breach is due,
    their due-soon is stale) and half within the reminder lead time (their due-soon is due)."""

    overdue: list[int] = field(default_factory=list)
    due_soon: list[int] = field(default_factory=list)
    # (user id, deliverable id, notification kind) that the sweep must produce, once each.
    expected: set = field(default_factory=set)

    @property
    def ids(self) -> list[int]:
        return self.overdue + self.due_soon


def plan_load(count: int) -> Load:
    """Plan `count` deliverables in Phase II through the planning service, alternately late
    and within the reminder lead time, and say who must hear about each."""
    User = get_user_model()
    engagement = Engagement.objects.select_related("provider_lead", "client_manager").get(
        title="Phase II oncology trial analysis"
    )
    manager = User.objects.get(username="alpha.manager")
    analyst = User.objects.get(username="bio.analyst")
    team_leads = {team.lead for team in engagement.teams.all() if team.lead is not None}
    # DESIGN.md: a breach escalates to the provider lead and the client manager; a due-soon
    # reminder goes to the assignee and the team lead.
    people = {
        NotificationKind.DELIVERABLE_BREACHED: {
            engagement.provider_lead,
            engagement.client_manager,
        },
        NotificationKind.DELIVERABLE_DUE_SOON: {analyst, *team_leads},
    }
    assert all(len(users) == 2 for users in people.values()), people
    assert all(user.email for users in people.values() for user in users)
    now = timezone.now()
    # Within the lead time but far from the due time, so nothing breaches during the test.
    soon = timedelta(hours=engagement.reminder_lead_hours) / 2
    load = Load()
    # One commit for the whole plan, as a bulk import would do (each plan is a savepoint):
    # the worker sees all of it at once, and it is quicker.
    with transaction.atomic():
        for i in range(count):
            late = i % 2 == 0
            deliverable = deliverable_plan(
                actor=manager,
                engagement=engagement,
                title=f"SLA load {'late' if late else 'soon'} {i:04d}",
                due_at=now - timedelta(hours=1, seconds=i) if late else now + soon,
                assignee=analyst,
            )
            if late:
                kind = NotificationKind.DELIVERABLE_BREACHED
                load.overdue.append(deliverable.pk)
            else:
                kind = NotificationKind.DELIVERABLE_DUE_SOON
                load.due_soon.append(deliverable.pk)
            load.expected |= {(user.pk, deliverable.pk, kind) for user in people[kind]}
    return load


def load_summary(load: Load) -> str:
    got = Counter(
        Notification.objects.filter(deliverable_id__in=load.ids).values_list(
            "kind", "user__username"
        )
    )
    want = Counter((kind, user_id) for user_id, _, kind in load.expected)
    return f"load notifications by kind and user: {dict(got)}; expected: {dict(want)}"


def load_is_done(load: Load) -> bool:
    """Every expected notification exists and the whole outbox has gone out."""
    return (
        Notification.objects.filter(deliverable_id__in=load.ids).count() >= len(load.expected)
        and not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
    )


def reminder_outcome(load: Load) -> Counter:
    return Counter(
        SlaReminder.objects.filter(deliverable_id__in=load.ids).values_list("kind", "status")
    )


def expected_reminder_outcome(load: Load) -> Counter:
    return Counter(
        {
            (ReminderKind.BREACH, "sent"): len(load.overdue),
            (ReminderKind.DUE_SOON, "cancelled"): len(load.overdue),
            (ReminderKind.DUE_SOON, "sent"): len(load.due_soon),
            (ReminderKind.BREACH, "pending"): len(load.due_soon),
        }
    )


def assert_sent_exactly_once(load: Load, mailbox: Mailbox, retaken=frozenset()) -> None:
    """Each reminder fired once, each notification exists once per recipient, each outbox row
    was sent (claimed once, or twice for the rows in `retaken`, which a killed worker left
    `sending`), and each e-mail was written once — twice at most for a retaken row, the
    window between writing the e-mail and marking its row sent."""
    assert reminder_outcome(load) == expected_reminder_outcome(load)

    got = list(
        Notification.objects.filter(deliverable_id__in=load.ids).values_list(
            "user_id", "deliverable_id", "kind"
        )
    )
    assert len(got) == len(load.expected)
    assert set(got) == load.expected

    rows = list(OutboxMessage.objects.select_related("user"))
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    attempts = {row.pk: row.attempts for row in rows}
    assert {pk for pk, n in attempts.items() if n != 1} == set(retaken)
    assert all(attempts[pk] == 2 for pk in retaken)
    emails = [row for row in rows if row.channel == Channel.EMAIL]
    # The load's own e-mails are in the outbox: one per notification (every recipient has an
    # address and wants immediate e-mail).
    load_keys = set(
        Notification.objects.filter(deliverable_id__in=load.ids).values_list("key", flat=True)
    )
    assert {row.payload.get("notification_key") for row in emails} >= load_keys

    by_id = {message_id(row.key): row for row in emails}
    written = mailbox.message_ids()
    lost = [by_id[mid].key for mid in set(by_id) - set(written)]
    unasked = sorted(set(written) - set(by_id))
    assert not lost, f"{len(lost)} e-mails never written, e.g. {lost[:5]}"
    assert not unasked, f"{len(unasked)} e-mails written that no outbox row asked for"
    repeated = {mid for mid, n in written.items() if n > 1}
    assert repeated <= {message_id(row.key) for row in rows if row.pk in retaken}, (
        f"{len(repeated)} e-mails written twice"
    )

    titles = dict(Notification.objects.values_list("key", "title"))
    for message in mailbox.messages():
        row = by_id[message["Message-ID"].strip()]
        assert message["To"] == row.user.email
        if row.payload.get("notification_key"):
            assert message["Subject"] == titles[row.payload["notification_key"]]
