"""DESIGN.md, "SLA engine (Celery)": a broker that is down when a user acts costs nothing. The
analyst's submission succeeds quickly although waking the senders fails; the outbox row
waits, and once the broker is back a real worker sends the QA reviewers' e-mail, once."""

import logging
import socket
import threading
import time

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from deliverables.models import Deliverable
from kpo.accounts.models import User
from kpo.notifications.choices import NotificationKind, OutboxStatus
from kpo.notifications.models import Notification, OutboxMessage

from .support import SEND_OUTBOX, SWEEP, live_marks, message_id, web_broker

pytestmark = live_marks()

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def broker_down():
    """The broker the web process publishes to refuses connections: a port that was just free
    and that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return web_broker(f"redis://127.0.0.1:{port}/0")


def test_a_submission_succeeds_quickly_while_the_broker_is_down_and_is_mailed_once_it_is_back(
    demo, stack, caplog
):
    memo = Deliverable.objects.get(title="Safety signal memo")
    assert memo.status == "in_progress"
    analyst = User.objects.get(username="bio.analyst")
    api = APIClient()
    api.force_authenticate(analyst)
    # A running server has its URLs and views loaded already.
    assert api.get(f"/api/v1/deliverables/{memo.pk}/").status_code == 200

    caplog.set_level(logging.WARNING, logger="kpo.notifications.services")
    with broker_down():
        started = time.perf_counter()
        response = api.post(
            f"/api/v1/deliverables/{memo.pk}/submissions/",
            {
                "file": SimpleUploadedFile(
                    "Safety memo v1.pdf", PDF, content_type="application/pdf"
                ),
                "notes": "First cut.",
            },
            format="multipart",
        )
        elapsed = time.perf_counter() - started
        # The wake-up is published from a background thread; let it meet the dead broker
        # before the broker comes back.
        for thread in threading.enumerate():
            if thread.name == "wake-senders":
                thread.join(timeout=10)

    assert response.status_code == 201, response.content
    assert elapsed < 2.0, f"the submission took {elapsed:.2f}s with the broker down"
    # The request did try to wake the senders after its commit, and the broker refused.
    assert [
        r
        for r in caplog.records
        if r.name == "kpo.notifications.services" and r.levelno == logging.WARNING and r.exc_info
    ]

    # The QA reviewers' notification and its e-mails wait in the outbox.
    reviewers = {
        u.username: u
        for u in User.objects.filter(
            notifications__deliverable=memo,
            notifications__kind=NotificationKind.DELIVERABLE_SUBMITTED,
        )
    }
    assert set(reviewers) == {"bio.qa", "bio.lead"}  # the QA reviewer and the team lead
    keys = dict(
        Notification.objects.filter(
            deliverable=memo, kind=NotificationKind.DELIVERABLE_SUBMITTED
        ).values_list("user__username", "key")
    )
    rows = {
        username: OutboxMessage.objects.get(key=f"email:{key}") for username, key in keys.items()
    }
    assert {row.status for row in rows.values()} == {OutboxStatus.PENDING}
    assert stack.mailbox.message_ids() == {}

    # The broker is back (this process publishes to it again): a worker starts, and the next
    # beat ticks send the outbox.
    stack.start_workers(concurrency=2)
    stack.send(SWEEP)
    stack.wait_until(
        lambda: not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists(),
        every={SEND_OUTBOX: 1.0},
        what="the outbox after the broker came back",
    )
    stack.run_once_more(SEND_OUTBOX, SWEEP)

    written = stack.mailbox.message_ids()
    for username, row in rows.items():
        row.refresh_from_db()
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
        assert written[message_id(row.key)] == 1, username
    submitted = [
        m for m in stack.mailbox.messages() if m["Subject"] == "Ready for QA: Safety signal memo v1"
    ]
    assert sorted(m["To"] for m in submitted) == sorted(u.email for u in reviewers.values())
    # Nothing else went out twice either.
    assert max(written.values()) == 1
    assert stack.errors() == []
