from django.conf import settings
from django.db import models
from django.db.models import Q

from .choices import Channel, NotificationKind, OutboxStatus


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


class OutboxMessage(models.Model):
    """Something to send — an e-mail or a webhook delivery — written in the same transaction as
    what made it due. Senders claim a row with a conditional update (pending → sending), so
    a job run twice, two workers or a retried task send it once; a row left `sending` by a
    killed worker is taken up again when its lease runs out. For webhooks these rows are the
    delivery log."""

    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_idx",
                condition=Q(status=OutboxStatus.PENDING),
            ),
            models.Index(
                fields=["claimed_at"],
                name="outbox_sending_idx",
                condition=Q(status=OutboxStatus.SENDING),
            ),
            models.Index(fields=["webhook", "-id"], name="outbox_webhook_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="outbox_status_valid", condition=Q(status__in=OutboxStatus.values)
            ),
            models.CheckConstraint(
                name="outbox_channel_valid", condition=Q(channel__in=Channel.values)
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.key} ({self.status})"
