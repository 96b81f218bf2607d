"""The drills' clients and workers: signing in over HTTP as a person or an integration would,
a prober that keeps asking while a server goes away, and the Celery workers of
tests/sla_worker pointed at the private servers."""

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import kombu.exceptions
import pytest
import redis
import requests

from kpo.demo import DEMO_PASSWORD
from tests.sla_worker.support import LiveStack, message_id

from .servers import BASE_DIR, Database, PostgresServer, RedisServer, app_environment

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
# What a page or an error body must never show a user.
LEAKS = ("Traceback", "OperationalError", "InterfaceError", "psycopg", "Exception Value")


# -- signing in --------------------------------------------------------------------------------


def api_headers(base_url: str, username: str) -> dict:
    """An integration's token, from the token endpoint (API.md, Conventions)."""
    response = requests.post(
        f"{base_url}/api/v1/auth/token/",
        json={"username": username, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Token {response.json()['token']}"}


def browser(base_url: str, username: str) -> requests.Session:
    """A browser session signed in through the login form, CSRF token and all."""
    session = requests.Session()
    session.get(f"{base_url}/accounts/login/", timeout=30).raise_for_status()
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": username,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base_url}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:2000]
    return session


# -- asking while a server goes away -----------------------------------------------------------


@dataclass
class Answer:
    phase: str
    name: str
    status: int | None  # None: no HTTP answer at all
    headers: dict = field(default_factory=dict)
    body: str = ""
    error: str = ""


class Prober(threading.Thread):
    """Asks for each target in turn, as fast as the answers come, and records every answer
    with the phase the drill was in when the answer came (a request in flight when the
    database stops belongs to the outage, not to the calm before it). Bounded: it stops by
    itself after `limit` seconds or `most` requests."""

    def __init__(self, targets: dict, limit: float = 120, most: int = 5000):
        super().__init__(name="drill-prober", daemon=True)
        self.targets = targets  # name -> callable(timeout=...) returning a Response
        self.limit, self.most = limit, most
        self.phase = "before"
        self.answers: list[Answer] = []
        self._halt = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.limit
        while (
            not self._halt.is_set()
            and time.monotonic() < deadline
            and len(self.answers) < self.most
        ):
            for name, ask in self.targets.items():
                try:
                    response = ask(timeout=15)
                except requests.RequestException as error:
                    answer = Answer(self.phase, name, None, error=repr(error))
                else:
                    answer = Answer(
                        self.phase,
                        name,
                        response.status_code,
                        dict(response.headers),
                        response.text,
                    )
                self.answers.append(answer)
            time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)

    def wait_for(self, condition, *, timeout: float, what: str) -> None:
        """Wait until `condition(answers)` holds; fail at once on an answer that is neither a
        success nor a clean 503, rather than when the time is up."""
        deadline = time.monotonic() + timeout
        while not condition(answers := list(self.answers)):
            wrong = [a for a in answers if a.status not in (200, 503)]
            if wrong:
                pytest.fail(
                    f"{what}: answered {wrong[0].status} {wrong[0].error} "
                    f"{wrong[0].body[:2000]!r}; answers: {self.summary()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"{what} not within {timeout}s; answers: {self.summary()}")
            time.sleep(0.05)

    def summary(self) -> dict:
        return dict(Counter((a.phase, a.name, a.status) for a in self.answers))


# -- the app's own code, run against the private database -----------------------------------


def load(env: dict, command: str, **arguments) -> dict:
    """Run a command of tests/drills/load.py in a process with the app's environment."""
    done = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "tests.drills.load", command, json.dumps(arguments)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"load {command} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the workers -------------------------------------------------------------------------------


BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.RedisError, OSError)


class DrillStack(LiveStack):
    """Celery workers of one drill on the private Redis and PostgreSQL. They consume the
    app's default queue, where gunicorn's wake-ups go; this process publishes beat's ticks
    there too (the `stack` fixture points its Celery app at the private Redis)."""

    def __init__(
        self, directory: Path, postgres: PostgresServer, redis_server: RedisServer, db: Database
    ):
        super().__init__(directory)
        self.queue = "celery"
        self.broker_url = redis_server.url()
        self.postgres, self.redis_server, self.db = postgres, redis_server, db

    def environment(self, **extra) -> dict:
        return app_environment(
            self.postgres,
            self.redis_server,
            self.directory / "var",
            DJANGO_SETTINGS_MODULE="tests.drills.worker_settings",
            SLA_TEST_QUEUE=self.queue,
            EMAIL_FILE_PATH=self.mailbox.path,
            **extra,
        )

    def tick(self, task) -> str | None:
        """Publish as beat does. Like beat, a tick that finds the broker away is skipped, and
        the next one tries again."""
        try:
            return task.delay().id
        except BROKER_ERRORS:
            return None

    def wait_until(self, done, *, timeout: float = 60, every=None, what="", poll=0.2):
        """`LiveStack.wait_until`, with beat's ticks surviving a broker that is still away,
        and a summary read from the private database."""
        every = every or {}
        last = dict.fromkeys(every, 0.0)
        deadline = time.monotonic() + timeout
        while not done():
            now = time.monotonic()
            if now > deadline:
                logs = "\n".join(f"--- {w.name}\n{w.log()[-3000:]}" for w in self.workers)
                what = what() if callable(what) else what
                pytest.fail(f"Not done in {timeout}s: {what}\n{outbox_summary(self.db)}\n{logs}")
            for task, seconds in every.items():
                if now - last[task] >= seconds:
                    self.tick(task)
                    last[task] = now
            time.sleep(poll)

    def close(self) -> None:
        try:
            for worker in self.workers:
                # Nothing of a drill needs a warm shutdown, and Redis is flushed after it.
                if worker.process is not None and worker.process.poll() is None:
                    worker.kill()
                worker.stop()
        finally:
            if self.redis_server.ping():
                self.redis_server.flush()


# -- what the database and the mailbox say ---------------------------------------------------


def outbox_summary(db: Database) -> str:
    with contextlib.suppress(Exception):
        rows = db.rows("SELECT status, count(*) FROM notifications_outboxmessage GROUP BY status")
        return f"outbox by status: {dict(rows)}"
    return "outbox: the database did not answer"


def outbox_rows(db: Database, after_id: int) -> list[dict]:
    """The outbox rows written after `after_id`, with their recipient's address."""
    rows = db.rows(
        "SELECT o.id, o.key, o.status, o.attempts, o.event, u.email, u.username "
        "FROM notifications_outboxmessage o LEFT JOIN accounts_user u ON u.id = o.user_id "
        "WHERE o.id > %s ORDER BY o.id",
        (after_id,),
    )
    names = ("id", "key", "status", "attempts", "event", "email", "username")
    return [dict(zip(names, row, strict=True)) for row in rows]


def last_outbox_id(db: Database) -> int:
    return db.value("SELECT coalesce(max(id), 0) FROM notifications_outboxmessage")


def assert_each_sent_once(rows: list[dict], written: Counter) -> None:
    """Every row sent, on its first attempt, and its e-mail written exactly once; no e-mail
    written that these rows did not ask for (among the Message-IDs of `written`)."""
    assert rows, "no outbox rows to check"
    assert {(r["key"], r["status"], r["attempts"]) for r in rows} == {
        (r["key"], "sent", 1) for r in rows
    }
    ids = {message_id(r["key"]) for r in rows}
    lost = sorted(ids - set(written))
    twice = sorted(mid for mid in ids if written[mid] > 1)
    unasked = set(written) - ids
    assert not lost, f"{len(lost)} e-mails never written"
    assert not twice, f"{len(twice)} e-mails written more than once"
    assert not unasked, f"{len(unasked)} e-mails written that no outbox row asked for"
