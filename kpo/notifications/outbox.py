"""Sending what the outbox holds: e-mails and signed webhook deliveries.

Each row is claimed with a conditional update (pending → sending), sent, then marked sent,
so concurrent senders never send the same row twice. A row left `sending` by a killed
worker is put back after `OUTBOX_LEASE_SECONDS`; webhook receivers de-duplicate on the
stable `X-KPO-Delivery` id in the rare case that the crash fell between send and mark.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from .choices import Channel, NotificationKind, OutboxStatus
from .models import Notification, OutboxMessage, Webhook

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`X-KPO-Signature` value: HMAC-SHA256 of "<t>.<body>" with the webhook's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: base, 2×base, 4×base… capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def requeue_stale(now=None) -> int:
    """Put back rows whose sender died while they were `sending`."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    return OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=cutoff).update(
        status=OutboxStatus.PENDING, next_attempt_at=now
    )


def dispatch_outbox(limit: int = 200) -> dict:
    """Send up to `limit` due rows. Safe to run in several workers at once."""
    now = timezone.now()
    requeued = requeue_stale(now)
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = failed = 0
    for pk in due:
        claimed = OutboxMessage.objects.filter(pk=pk, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not claimed:
            continue  # another sender has it
        message = OutboxMessage.objects.select_related("user", "webhook").get(pk=pk)
        try:
            status = _deliver(message)
        except DeliveryFailed as error:
            failed += 1
            _record_failure(message, error)
        else:
            sent += 1
            OutboxMessage.objects.filter(pk=pk, status=OutboxStatus.SENDING).update(
                status=OutboxStatus.SENT,
                sent_at=timezone.now(),
                response_status=status,
                last_error="",
            )
            if message.webhook_id:
                Webhook.objects.filter(pk=message.webhook_id).update(consecutive_failures=0)
    if len(due) == limit:
        # A burst larger than one batch: carry on now rather than at the next beat tick.
        from .services import wake_senders

        wake_senders()
    return {"due": len(due), "sent": sent, "failed": failed, "requeued": requeued}


def _deliver(message) -> int | None:
    if message.channel == Channel.EMAIL:
        return _send_email(message)
    return _post_webhook(message)


def _record_failure(message, error: DeliveryFailed) -> None:
    final = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
            next_attempt_at=timezone.now() + retry_delay(message.attempts),
            last_error=str(error)[:500],
            response_status=error.status,
        )
        if message.webhook_id:
            _count_webhook_failure(message.webhook_id)
    logger.info("Outbox %s attempt %s failed: %s", message.key, message.attempts, error)


def _count_webhook_failure(webhook_id: int) -> None:
    """After too many consecutive failures the endpoint is switched off and its owners told."""
    from .selectors import webhook_admins
    from .services import notify

    Webhook.objects.filter(pk=webhook_id).update(consecutive_failures=F("consecutive_failures") + 1)
    webhook = Webhook.objects.select_for_update().get(pk=webhook_id)
    if not webhook.active or webhook.consecutive_failures < settings.WEBHOOK_DISABLE_AFTER:
        return
    webhook.active = False
    webhook.disabled_at = timezone.now()
    webhook.save(update_fields=["active", "disabled_at", "updated_at"])
    notify(
        kind=NotificationKind.WEBHOOK_DISABLED,
        recipients=webhook_admins(webhook),
        key=f"webhook_disabled:{webhook.pk}:{webhook.disabled_at.timestamp():.0f}",
        title=f"Webhook switched off after {webhook.consecutive_failures} failed deliveries",
        body=f"{webhook.url} kept failing. Fix the receiver, then re-activate the webhook.",
    )


def _send_email(message) -> None:
    user = message.user
    if message.event == "daily_digest":
        notifications = list(
            Notification.objects.filter(
                user=user,
                pk__gt=message.payload["after"],
                pk__lte=message.payload["upto"],
                read_at__isnull=True,
            ).order_by("-id")[:50]
        )
        context = {"user": user, "notifications": notifications, "site_url": settings.SITE_URL}
        subject = f"Your KPO digest: {len(notifications)} unread notification(s)"
        template = "notifications/email/digest"
    else:
        notification = Notification.objects.filter(key=message.payload["notification_key"]).first()
        if notification is None:
            return None
        context = {"user": user, "notification": notification, "site_url": settings.SITE_URL}
        subject = notification.title
        template = "notifications/email/notification"
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[user.email],
        # Stable across retries so mail systems can recognise a repeat.
        headers={"Message-ID": f"<{hashlib.sha256(message.key.encode()).hexdigest()}@kpo>"},
    )
    email.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    try:
        email.send()
    except Exception as error:
        raise DeliveryFailed(f"E-mail failed: {error}") from error
    return None


def _post_webhook(message) -> int:
    webhook = message.webhook
    if webhook is None or not webhook.active:
        raise DeliveryFailed("Webhook is inactive.")
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(  # noqa: S310 - URL validated as http(s) by the API
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "KPO-Webhooks/1.0",
            "X-KPO-Event": message.event,
            "X-KPO-Delivery": message.payload["id"],
            "X-KPO-Signature": sign(webhook.secret, int(time.time()), body),
        },
    )
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        ) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"Receiver answered {error.code}", status=error.code) from error
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise DeliveryFailed(f"Could not reach the receiver: {error}") from error
