from django.conf import settings
from django.db import models
from django.db.models import Q

from .choices import NotificationKind


class Notification(models.Model):
    """An in-app message to one user, optionally e-mailed. `key` makes a reminder that two
    job runs both decide to send exist only once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    engagement = models.ForeignKey(
        "engagements.Engagement", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    deliverable = models.ForeignKey(
        "deliverables.Deliverable",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_idx"),
            models.Index(
                fields=["user"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="notification_kind_valid", condition=Q(kind__in=NotificationKind.values)
            )
        ]

    def __str__(self):
        return f"{self.user}: {self.title}"


class Webhook(models.Model):
    """An organisation's endpoint for signed event deliveries (events named as notification
    kinds). Belongs to a client or a provider; the secret is never shown again."""

    client = models.ForeignKey(
        "engagements.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    provider = models.ForeignKey(
        "vendors.Provider",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="webhook_one_owner",
                condition=Q(client__isnull=False, provider__isnull=True)
                | Q(client__isnull=True, provider__isnull=False),
            )
        ]

    def __str__(self):
        return self.url
