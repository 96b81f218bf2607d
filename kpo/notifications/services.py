"""Notifications are written by the domain services, in the same transaction as the change
that causes them; nothing is sent from a view."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from kpo.access import policy
from kpo.audit.services import audit_record
from kpo.domain import NotVisible

from .models import Notification, Webhook


def engagement_path(engagement) -> str:
    return f"/engagements/{engagement.pk}/"


def deliverable_path(deliverable) -> str:
    return f"/deliverables/{deliverable.pk}/"


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
) -> list[Notification]:
    """Create one notification per distinct active recipient (never the actor who caused it).

    `key`, when given, is made unique per recipient so that a job which decides twice to send
    the same reminder creates it once.
    """
    if deliverable is not None and engagement is None:
        engagement = deliverable.engagement
    url = (
        deliverable_path(deliverable)
        if deliverable
        else (engagement_path(engagement) if engagement else "")
    )
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        if exclude is not None and user.pk == exclude.pk:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user,
                kind=kind,
                title=title[:200],
                body=body,
                url=url,
                engagement=engagement,
                deliverable=deliverable,
                key=f"{key}:{user.pk}" if key else None,
            )
        )
    return Notification.objects.bulk_create(rows, ignore_conflicts=key is not None)


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
