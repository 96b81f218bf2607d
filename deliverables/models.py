import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from kpo.access.querysets import RestrictedQuerySet

from .choices import (
    CLIENT_DECISIONS,
    QA_DECISIONS,
    RUBRIC,
    DeliverableKind,
    DeliverableStatus,
    ReminderKind,
    ReminderStatus,
    ReviewDecision,
    ReviewKind,
    SlaState,
)


class Deliverable(models.Model):
    """A piece of work the provider owes under an engagement, with its due time and SLA state."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="deliverables"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(
        max_length=16, choices=DeliverableKind.choices, default=DeliverableKind.REPORT
    )
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_deliverables",
    )
    status = models.CharField(
        max_length=20, choices=DeliverableStatus.choices, default=DeliverableStatus.PLANNED
    )
    sla_state = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.ON_TRACK)
    current_version = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # When the current submission reached the client; the review turnaround runs from here.
    review_started_at = models.DateTimeField(null=True, blank=True)
    overall_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    engagement_path = "engagement"

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["engagement", "due_at"], name="deliverable_engagement_due_idx"),
            models.Index(fields=["status", "due_at"], name="deliverable_status_due_idx"),
            models.Index(fields=["sla_state", "due_at"], name="deliverable_sla_due_idx"),
            models.Index(fields=["assignee", "due_at"], name="deliverable_assignee_due_idx"),
            models.Index(fields=["due_at"], name="deliverable_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="deliverable_status_valid", condition=Q(status__in=DeliverableStatus.values)
            ),
            models.CheckConstraint(
                name="deliverable_sla_state_valid", condition=Q(sla_state__in=SlaState.values)
            ),
            models.CheckConstraint(
                name="deliverable_kind_valid", condition=Q(kind__in=DeliverableKind.values)
            ),
            models.CheckConstraint(
                name="deliverable_overall_score_1_to_5",
                condition=Q(overall_score__isnull=True)
                | Q(overall_score__gte=1, overall_score__lte=5),
            ),
        ]

    def __str__(self):
        return self.title


def submission_storage_key(instance, filename):
    """Server-generated key; the user's file name is kept only as metadata."""
    engagement = instance.deliverable.engagement
    return f"{engagement.client_id}/{engagement.pk}/submissions/{uuid.uuid4().hex}"


class Submission(models.Model):
    """One version of a deliverable. Versions are never overwritten."""

    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.CASCADE, related_name="submissions"
    )
    version = models.PositiveIntegerField()
    file = models.FileField(upload_to=submission_storage_key, max_length=255)
    filename = models.CharField(max_length=255)
    notes = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    engagement_path = "deliverable__engagement"

    class Meta:
        ordering = ["deliverable", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "version"], name="one_submission_per_version"
            ),
            models.CheckConstraint(name="submission_version_positive", condition=Q(version__gte=1)),
        ]

    def __str__(self):
        return f"{self.deliverable} v{self.version}"


def _score_field():
    return models.PositiveSmallIntegerField(null=True, blank=True)


class Review(models.Model):
    """A provider QA check or a client review of one submission, with rubric scores 1–5."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="reviews")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=8, choices=ReviewKind.choices)
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    score_accuracy = _score_field()
    score_completeness = _score_field()
    score_insight = _score_field()
    score_relevance = _score_field()
    score_presentation = _score_field()
    overall = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    comment = models.TextField(blank=True)
    # For client reviews: how long the version waited in front of the client.
    turnaround = models.DurationField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    engagement_path = "deliverable__engagement"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["deliverable", "created_at"], name="review_deliverable_idx")
        ]
        constraints = [
            *(
                models.CheckConstraint(
                    name=f"review_{name}_1_to_5",
                    condition=Q(**{f"score_{name}__isnull": True})
                    | Q(**{f"score_{name}__gte": 1, f"score_{name}__lte": 5}),
                )
                for name in RUBRIC
            ),
            models.CheckConstraint(
                name="review_decision_matches_kind",
                condition=Q(kind=ReviewKind.QA, decision__in=QA_DECISIONS)
                | Q(kind=ReviewKind.CLIENT, decision__in=CLIENT_DECISIONS),
            ),
            models.CheckConstraint(
                name="review_overall_1_to_5",
                condition=Q(overall__isnull=True) | Q(overall__gte=1, overall__lte=5),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.decision} of {self.submission}"

    @property
    def scores(self) -> dict[str, int] | None:
        values = {name: getattr(self, f"score_{name}") for name in RUBRIC}
        return values if any(v is not None for v in values.values()) else None


class Comment(models.Model):
    """A message in a deliverable's discussion, seen by everyone who sees the deliverable."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comments"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    engagement_path = "deliverable__engagement"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["deliverable", "created_at"], name="comment_deliverable_idx")
        ]

    def __str__(self):
        return f"Comment by {self.author} on {self.deliverable}"


class SlaReminder(models.Model):
    """A reminder or escalation that will be due at `fire_at`, written in the same transaction
    as the change that makes it due. `(deliverable, kind, due_time)` is unique, so however
    many sweeps run, each one fires once per due time."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # The deadline the reminder is about (the due time, or the review deadline).
    due_time = models.DateTimeField()
    fire_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["fire_at", "id"]
        indexes = [
            models.Index(
                fields=["fire_at"],
                name="reminder_pending_fire_idx",
                condition=Q(status=ReminderStatus.PENDING),
            ),
            models.Index(fields=["deliverable", "status"], name="reminder_deliverable_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "kind", "due_time"], name="one_reminder_per_due_time"
            ),
            models.CheckConstraint(
                name="reminder_kind_valid", condition=Q(kind__in=ReminderKind.values)
            ),
            models.CheckConstraint(
                name="reminder_status_valid", condition=Q(status__in=ReminderStatus.values)
            ),
        ]

    def __str__(self):
        return f"{self.kind} for {self.deliverable_id} at {self.fire_at:%Y-%m-%d %H:%M}"
