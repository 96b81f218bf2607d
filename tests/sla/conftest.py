"""Helpers for the SLA engine tests: deliverables planned through the services, the
notifications and reminders they produce, and a local HTTP receiver for webhooks.

Time is never patched. Every sweep is given an explicit `now`, and everything a test plans
is placed relative to it, so a boundary ("exactly at the due time") is exact to the
microsecond on SQLite and PostgreSQL alike.
"""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.models import SlaReminder
from kpo.notifications.models import Notification

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
TICK = timedelta(microseconds=1)
GOOD_SCORES = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    """Sent e-mails land in `django.core.mail.outbox`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def plan(users, engagements):
    """`plan(due_at)`: a new Phase II deliverable assigned to bio.analyst and in progress,
    planned by alpha.manager through the services (so its reminders are scheduled)."""

    def make(due_at, *, title="Dose-response memo", start=True, engagement=None):
        item = deliverable_services.deliverable_plan(
            actor=users.alpha_manager,
            engagement=engagement or engagements.phase_two,
            title=title,
            due_at=due_at,
            assignee=users.bio_analyst,
        )
        if start:
            deliverable_services.deliverable_start(actor=users.bio_analyst, deliverable=item)
        item.refresh_from_db()
        return item

    return make


@pytest.fixture
def in_review(users, plan):
    """`in_review()`: a new Phase II deliverable submitted and passed by QA, so it is in front
    of the client and its review clock runs from `review_started_at`."""

    def make(due_at=None, *, title="Exposure-response report"):
        item = plan(due_at or timezone.now() + timedelta(days=30), title=title)
        deliverable_services.deliverable_submit(
            actor=users.bio_analyst,
            deliverable=item,
            file=SimpleUploadedFile("v1.pdf", PDF, content_type="application/pdf"),
        )
        deliverable_services.deliverable_qa(actor=users.bio_qa, deliverable=item, decision="pass")
        item.refresh_from_db()
        return item

    return make


def told(deliverable, kind) -> list[str]:
    """Usernames told `kind` about `deliverable`, one entry per notification, sorted."""
    return sorted(
        Notification.objects.filter(deliverable=deliverable, kind=kind).values_list(
            "user__username", flat=True
        )
    )


def reminders(deliverable, status=None) -> list[tuple]:
    """(kind, due_time, fire_at, status) of the deliverable's reminder rows, sorted."""
    rows = SlaReminder.objects.filter(deliverable=deliverable)
    if status:
        rows = rows.filter(status=status)
    return sorted(rows.values_list("kind", "due_time", "fire_at", "status"))


class Receiver:
    """A webhook endpoint on 127.0.0.1: records every POST and answers with the scripted
    statuses in turn (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kpo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, index):
        return json.loads(self.requests[index]["body"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver(monkeypatch):
    """`receiver(statuses)`: a running local receiver, stopped after the test."""
    # A proxy configured in the environment must not intercept the loopback receiver.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    started = []

    def start(statuses=()):
        started.append(Receiver(statuses))
        return started[-1]

    yield start
    for server in started:
        server.close()
