"""Notifications are written by the domain services, in the same transaction as the change
that causes them; nothing is sent from a view."""

from collections.abc import Iterable

from .models import Notification


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
