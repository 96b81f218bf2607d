"""Notifications are written by the domain services, in the same transaction as the change
that causes them; nothing is sent from a view."""

import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from kpo.access import policy
from kpo.accounts.choices import EmailMode
from kpo.audit.services import audit_record
from kpo.domain import NotVisible

from .choices import Channel
from .models import Notification, OutboxMessage, Webhook

logger = logging.getLogger(__name__)


def engagement_path(engagement) -> str:
    return f"/engagements/{engagement.pk}/"


def deliverable_path(deliverable) -> str:
    return f"/deliverables/{deliverable.pk}/"


@dataclass
class Event:
    """One thing that happened, told to some users (in-app, e-mail) and to the webhooks of
    their organisations. `key` makes it idempotent: the same key twice is the same event."""

    kind: str
    title: str
    body: str = ""
    engagement: object = None
    deliverable: object = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    recipients: list = field(default_factory=list)
    created_at: datetime = field(default_factory=timezone.now)

    @property
    def url(self) -> str:
        if self.deliverable is not None:
            return deliverable_path(self.deliverable)
        return engagement_path(self.engagement) if self.engagement is not None else ""

    def webhook_body(self, delivery_id: str) -> dict:
        return {
            "id": delivery_id,
            "event": self.kind,
            "created_at": self.created_at.isoformat(),
            "data": {
                "title": self.title,
                "body": self.body,
                "url": self.url,
                "engagement": getattr(self.engagement, "pk", None),
                "deliverable": getattr(self.deliverable, "pk", None),
            },
        }


def _unique_active(recipients, exclude=None) -> list:
    seen: set[int] = set()
    users = []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        if exclude is not None and user.pk == exclude.pk:
            continue
        seen.add(user.pk)
        users.append(user)
    return users


def publish(events: list[Event]) -> int:
    """Write the notifications of `events` and their e-mail and webhook outbox rows, in the
    caller's transaction, with a constant number of queries however many events there are.
    Returns the number of outbox rows written; senders are woken after commit."""
    notifications, outbox = [], []
    now = timezone.now()
    org_ids = {"client": set(), "provider": set()}
    for event in events:
        for user in event.recipients:
            key = f"{event.key}:{user.pk}"[:200]
            notifications.append(
                Notification(
                    user=user,
                    kind=event.kind,
                    title=event.title[:200],
                    body=event.body,
                    url=event.url,
                    engagement=event.engagement,
                    deliverable=event.deliverable,
                    key=key,
                    created_at=event.created_at,
                )
            )
            if user.email and user.email_mode == EmailMode.IMMEDIATE:
                outbox.append(
                    OutboxMessage(
                        key=f"email:{key}"[:200],
                        channel=Channel.EMAIL,
                        user=user,
                        event=event.kind,
                        payload={"notification_key": key},
                        next_attempt_at=now,
                    )
                )
            if user.client_id:
                org_ids["client"].add(user.client_id)
            if user.provider_id:
                org_ids["provider"].add(user.provider_id)
    if not notifications:
        return 0
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    webhooks = (
        list(
            Webhook.objects.filter(active=True).filter(
                Q(client_id__in=org_ids["client"]) | Q(provider_id__in=org_ids["provider"])
            )
        )
        if org_ids["client"] or org_ids["provider"]
        else []
    )
    for event in events:
        orgs = {(u.client_id, u.provider_id) for u in event.recipients}
        for webhook in webhooks:
            told = any(
                (webhook.client_id and webhook.client_id == c)
                or (webhook.provider_id and webhook.provider_id == p)
                for c, p in orgs
            )
            if told and event.kind in webhook.events:
                delivery_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{webhook.pk}:{event.key}").hex
                outbox.append(
                    OutboxMessage(
                        key=f"webhook:{webhook.pk}:{event.key}"[:200],
                        channel=Channel.WEBHOOK,
                        webhook=webhook,
                        event=event.kind,
                        payload=event.webhook_body(delivery_id),
                        next_attempt_at=now,
                    )
                )
    OutboxMessage.objects.bulk_create(outbox, ignore_conflicts=True)
    if outbox:
        transaction.on_commit(wake_senders)
    return len(outbox)


def wake_senders() -> None:
    """Ask a worker to send the outbox now, from a background thread: a broker that refuses,
    or accepts and then hangs, must never hold up the user's request. If the publish fails the
    rows simply wait for the next beat tick."""
    threading.Thread(target=_publish_send_outbox, name="wake-senders", daemon=True).start()


def _publish_send_outbox() -> None:
    from .tasks import send_outbox

    try:
        send_outbox.apply_async(retry=False)
    except Exception:
        logger.warning("Broker unavailable; outbox will be sent on the next sweep.", exc_info=True)


def notify(
    *,
    kind: str,
    recipients: Iterable,
    title: str,
    body: str = "",
    engagement=None,
    deliverable=None,
    key: str | None = None,
    exclude=None,
) -> Event:
    """Tell `recipients` (never the actor who caused it) in-app, by e-mail as each prefers,
    and the webhooks of their organisations. Services call this inside their transaction.

    `key`, when given, makes the event idempotent: a job that decides twice to send the same
    reminder creates it once."""
    if deliverable is not None and engagement is None:
        engagement = deliverable.engagement
    event = Event(
        kind=kind,
        title=title,
        body=body,
        engagement=engagement,
        deliverable=deliverable,
        recipients=_unique_active(recipients, exclude),
    )
    if key:
        event.key = key
    publish([event])
    return event


def notification_mark_read(*, actor, notification) -> Notification:
    """Mark one of the actor's own notifications as read (idempotent)."""
    if notification.user_id != actor.pk:
        raise NotVisible("Not found.")
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification


WEBHOOK_FIELDS = ("url", "events", "secret", "active")


def _webhook_owner(actor) -> dict:
    policy.require_organisation_action(actor, "manage_webhooks")
    return {"client_id": actor.client_id} if actor.client_id else {"provider_id": actor.provider_id}


def _check_owner(actor, webhook) -> None:
    owner = _webhook_owner(actor)
    if any(getattr(webhook, field) != value for field, value in owner.items()):
        raise NotVisible("Not found.")


def _webhook_audit(actor, action, webhook, changes):
    # The secret never reaches the audit trail.
    safe = {k: ("(changed)" if k == "secret" else v) for k, v in changes.items()}
    audit_record(
        actor=actor,
        action=f"webhook.{action}",
        target=webhook,
        client=webhook.client,
        provider=webhook.provider,
        changes=safe,
    )


def webhook_create(*, actor, url, events, secret, active=True):
    """Register an endpoint of the actor's organisation for signed event deliveries."""
    owner = _webhook_owner(actor)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            url=url,
            events=sorted(set(events)),
            secret=secret,
            active=active,
            created_by=actor,
            **owner,
        )
        _webhook_audit(actor, "create", webhook, {"url": url, "events": webhook.events})
    return webhook


def webhook_update(*, actor, webhook, **values):
    """Change an endpoint; re-activating it clears its failure count."""
    _check_owner(actor, webhook)
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
        if "events" in values:
            values["events"] = sorted(set(values["events"]))
        changes = {k: v for k, v in values.items() if getattr(webhook, k) != v}
        for field, value in changes.items():
            setattr(webhook, field, value)
        if changes.get("active"):
            webhook.consecutive_failures = 0
            webhook.disabled_at = None
        if changes:
            webhook.save()
            _webhook_audit(actor, "update", webhook, changes)
    return webhook


def webhook_delete(*, actor, webhook) -> None:
    _check_owner(actor, webhook)
    with transaction.atomic():
        _webhook_audit(actor, "delete", webhook, {"url": webhook.url})
        webhook.delete()


def send_daily_digests(now=None) -> int:
    """One e-mail per digest-mode user who has unread notifications not yet summarised.
    The outbox key carries the newest notification id, so a second run the same day finds
    nothing new and writes nothing.

    Two runs at once (a task redelivered while the first run still works, a doubled beat
    tick) write one digest per user: each run claims a user's range with a conditional
    update of their digested id, taking the row locks in user order, so the later run waits
    for the earlier one, finds the range taken and skips that user — even when a
    notification arrived in between, which then goes into the next digest."""
    now = now or timezone.now()
    User = get_user_model()
    pending = (
        Notification.objects.filter(
            read_at__isnull=True,
            user__is_active=True,
            user__email_mode=EmailMode.DIGEST,
            pk__gt=F("user__digested_notification_id"),
        )
        .values("user_id", "user__digested_notification_id")
        .annotate(upto=Max("pk"), unread=Count("pk"))
        .order_by("user_id")
    )
    rows = [
        OutboxMessage(
            key=f"digest:{row['user_id']}:{row['upto']}",
            channel=Channel.EMAIL,
            user_id=row["user_id"],
            event="daily_digest",
            next_attempt_at=now,
            payload={"after": row["user__digested_notification_id"], "upto": row["upto"]},
        )
        for row in pending
    ]
    with transaction.atomic():
        claimed = [
            row
            for row in rows
            if User.objects.filter(
                pk=row.user_id, digested_notification_id=row.payload["after"]
            ).update(digested_notification_id=row.payload["upto"])
        ]
        OutboxMessage.objects.bulk_create(claimed, ignore_conflicts=True)
        if claimed:
            transaction.on_commit(wake_senders)
    return len(claimed)


def notifications_mark_all_read(*, actor) -> int:
    """Mark every unread notification of the actor as read, in one UPDATE; returns how many
    changed (0 when there were none, so running it twice is harmless)."""
    return Notification.objects.filter(user_id=actor.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
