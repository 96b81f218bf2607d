"""Signed webhook deliveries to a real HTTP receiver on 127.0.0.1, retried with back-off
under a stable delivery id, logged for the admins, and switched off after repeated
failures."""

import hashlib
import hmac
import time

import pytest
from rest_framework.test import APIClient

from deliverables.sla import run_sla_sweep
from kpo.notifications import outbox
from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.choices import OutboxStatus
from kpo.notifications.models import Notification, OutboxMessage, Webhook
from kpo.notifications.services import webhook_create

SECRET = "whsec-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
def sent_backlog(db):
    """The demo's own e-mails have already gone out."""
    outbox.dispatch_outbox()


@pytest.fixture
def alpha_webhook(users, sent_backlog):
    """`alpha_webhook(receiver)`: Alpha's endpoint for reviews and breaches, made by its admin."""

    def make(receiver, events=("review_requested", "deliverable_breached")):
        return webhook_create(
            actor=users.alpha_admin, url=receiver.url, events=list(events), secret=SECRET
        )

    return make


def header(request, name):
    return {k.lower(): v for k, v in request["headers"].items()}[name.lower()]


def verify(secret, signature_header, body) -> bool:
    """What a receiver does: recompute HMAC-SHA256 over "<t>.<body>" and compare."""
    parts = dict(item.split("=", 1) for item in signature_header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], expected.hexdigest())


def deliveries(users, webhook):
    client = APIClient()
    client.force_authenticate(users.alpha_admin)
    response = client.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/")
    assert response.status_code == 200
    return response.json()["results"]


def test_a_breach_is_delivered_with_event_delivery_id_and_a_verifiable_signature(
    receiver, alpha_webhook, deliverable
):
    endpoint = receiver()
    alpha_webhook(endpoint)
    run_sla_sweep()

    outbox.dispatch_outbox()

    (request,) = endpoint.requests
    assert header(request, "X-KPO-Event") == "deliverable_breached"
    assert header(request, "Content-Type") == "application/json"
    signature = header(request, "X-KPO-Signature")
    assert verify(SECRET, signature, request["body"])
    assert abs(int(signature.split(",")[0].removeprefix("t=")) - time.time()) < 60
    assert not verify("another-secret", signature, request["body"])
    body = endpoint.json(0)
    assert set(body) == {"id", "event", "created_at", "data"}
    assert body["id"] == header(request, "X-KPO-Delivery")
    assert body["event"] == "deliverable_breached"
    log = deliverable("Data cleaning log")
    assert body["data"]["deliverable"] == log.pk
    assert body["data"]["engagement"] == log.engagement_id
    assert body["data"]["title"] == "Overdue: Data cleaning log"


def test_a_review_request_is_delivered_to_the_clients_webhook(receiver, alpha_webhook, in_review):
    endpoint = receiver()
    alpha_webhook(endpoint)
    item = in_review()

    outbox.dispatch_outbox()

    (request,) = endpoint.requests
    assert header(request, "X-KPO-Event") == "review_requested"
    assert verify(SECRET, header(request, "X-KPO-Signature"), request["body"])
    assert endpoint.json(0)["data"]["deliverable"] == item.pk


def test_events_the_webhook_did_not_subscribe_to_are_not_delivered(
    receiver, alpha_webhook, in_review
):
    endpoint = receiver()
    alpha_webhook(endpoint, events=["deliverable_accepted"])
    in_review()
    run_sla_sweep()

    outbox.dispatch_outbox()

    assert endpoint.requests == []


def test_another_organisations_events_are_not_delivered(receiver, users, sent_backlog):
    endpoint = receiver()
    webhook_create(
        actor=users.ledger_admin,
        url=endpoint.url,
        events=["deliverable_breached", "deliverable_due_soon"],
        secret=SECRET,
    )
    run_sla_sweep()  # Bio-Analytics and Alpha are told; Ledger is not involved

    outbox.dispatch_outbox()

    assert endpoint.requests == []


def test_a_receiver_failing_twice_gets_the_event_once_retried_with_one_delivery_id(
    receiver, alpha_webhook, settings, users
):
    settings.OUTBOX_RETRY_BASE_SECONDS = 0
    endpoint = receiver(statuses=[500, 500])
    webhook = alpha_webhook(endpoint)
    run_sla_sweep()

    results = [outbox.dispatch_outbox() for _ in range(3)]

    # The first run also sends the sweep's four e-mails.
    assert [(r["sent"], r["failed"]) for r in results] == [(4, 1), (0, 1), (1, 0)]
    assert len(endpoint.requests) == 3
    ids = {header(request, "X-KPO-Delivery") for request in endpoint.requests}
    assert len(ids) == 1
    assert all(verify(SECRET, header(r, "X-KPO-Signature"), r["body"]) for r in endpoint.requests)
    (logged,) = deliveries(users, webhook)
    assert logged["delivery_id"] == ids.pop()
    assert logged["attempts"] == 3
    assert logged["status"] == "sent"
    assert logged["response_status"] == 200
    webhook.refresh_from_db()
    assert (webhook.active, webhook.consecutive_failures) == (True, 0)


def test_a_failed_delivery_waits_for_its_back_off(receiver, alpha_webhook, settings, users):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    endpoint = receiver(statuses=[503])
    webhook = alpha_webhook(endpoint)
    run_sla_sweep()
    outbox.dispatch_outbox()

    outbox.dispatch_outbox()

    assert len(endpoint.requests) == 1
    (logged,) = deliveries(users, webhook)
    assert (logged["status"], logged["attempts"], logged["response_status"]) == (
        "pending",
        1,
        503,
    )
    assert "503" in logged["last_error"]


def test_back_off_doubles_up_to_its_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 200

    delays = [outbox.retry_delay(n).total_seconds() for n in range(1, 6)]

    assert delays == [30, 60, 120, 200, 200]


def test_a_delivery_gives_up_after_the_maximum_number_of_attempts(
    receiver, alpha_webhook, settings
):
    settings.OUTBOX_RETRY_BASE_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 2
    endpoint = receiver(statuses=[500, 500, 500])
    webhook = alpha_webhook(endpoint)
    run_sla_sweep()

    for _ in range(3):
        outbox.dispatch_outbox()

    assert len(endpoint.requests) == 2
    row = OutboxMessage.objects.get(webhook=webhook)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 2)


def test_a_webhook_failing_too_often_is_switched_off_and_its_admins_told(
    receiver, alpha_webhook, settings, users
):
    settings.OUTBOX_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_DISABLE_AFTER = 3
    endpoint = receiver(statuses=[500] * 10)
    webhook = alpha_webhook(endpoint)
    run_sla_sweep()

    for _ in range(2):
        outbox.dispatch_outbox()
    webhook.refresh_from_db()
    assert webhook.active
    assert not Notification.objects.filter(kind=K.WEBHOOK_DISABLED).exists()

    outbox.dispatch_outbox()
    outbox.dispatch_outbox()

    webhook.refresh_from_db()
    assert not webhook.active
    assert webhook.disabled_at is not None
    assert len(endpoint.requests) == 3  # nothing is posted to a switched-off endpoint
    told = Notification.objects.filter(kind=K.WEBHOOK_DISABLED).values_list(
        "user__username", flat=True
    )
    assert list(told) == ["alpha.admin"]


def test_a_delivery_to_an_unreachable_receiver_counts_as_a_failure(
    receiver, alpha_webhook, settings
):
    endpoint = receiver()
    webhook = alpha_webhook(endpoint)
    endpoint.close()
    run_sla_sweep()

    result = outbox.dispatch_outbox()

    assert result["failed"] == 1
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 1
    row = OutboxMessage.objects.get(webhook=webhook)
    assert "Could not reach the receiver" in row.last_error


def test_the_secret_is_not_in_the_delivery_log_or_the_body(receiver, alpha_webhook, users):
    endpoint = receiver()
    webhook = alpha_webhook(endpoint)
    run_sla_sweep()

    outbox.dispatch_outbox()

    assert SECRET.encode() not in endpoint.requests[0]["body"]
    assert SECRET not in str(deliveries(users, webhook))
    assert Webhook.objects.get(pk=webhook.pk).secret == SECRET
