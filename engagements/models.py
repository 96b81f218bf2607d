import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from kpo.access.querysets import RestrictedQuerySet

from .choices import Confidentiality, DocumentClassification, EngagementStatus, PricingModel


class Client(models.Model):
    """A company that buys knowledge work."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    industry = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ReferenceSequence(models.Model):
    """Last engagement number issued per year; locked while issuing the next reference."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class Engagement(models.Model):
    """A statement of work between a client and a provider, with its SLA terms."""

    reference = models.CharField(max_length=20, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="engagements")
    provider = models.ForeignKey(
        "vendors.Provider", on_delete=models.PROTECT, related_name="engagements"
    )
    service_line = models.ForeignKey(
        "vendors.ServiceLine", on_delete=models.PROTECT, related_name="engagements"
    )
    title = models.CharField(max_length=200)
    brief = models.TextField(blank=True, help_text="The research questions")
    status = models.CharField(
        max_length=16, choices=EngagementStatus.choices, default=EngagementStatus.DRAFT
    )
    confidentiality = models.CharField(
        max_length=16, choices=Confidentiality.choices, default=Confidentiality.CONFIDENTIAL
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    budget = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(max_length=3, default="USD")
    pricing_model = models.CharField(
        max_length=24, choices=PricingModel.choices, default=PricingModel.FIXED_FEE
    )
    client_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_engagements",
    )
    provider_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_engagements",
    )
    teams = models.ManyToManyField("vendors.AnalystTeam", related_name="engagements", blank=True)

    # SLA terms
    qa_required = models.BooleanField(default=True)
    reminder_lead_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 30)]
    )
    review_turnaround_hours = models.PositiveIntegerField(
        default=72, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    quality_threshold = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("3.00"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
    )

    # Set while on hold, so that SLA clocks can be moved by the length of the hold.
    held_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "status"], name="engagement_client_status_idx"),
            models.Index(fields=["provider", "status"], name="engagement_provider_status_idx"),
            models.Index(fields=["status"], name="engagement_status_idx"),
            models.Index(fields=["service_line"], name="engagement_service_line_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="engagement_status_valid", condition=Q(status__in=EngagementStatus.values)
            ),
            models.CheckConstraint(
                name="engagement_confidentiality_valid",
                condition=Q(confidentiality__in=Confidentiality.values),
            ),
            models.CheckConstraint(
                name="engagement_pricing_model_valid",
                condition=Q(pricing_model__in=PricingModel.values),
            ),
            models.CheckConstraint(
                name="engagement_quality_threshold_1_to_5",
                condition=Q(quality_threshold__gte=1, quality_threshold__lte=5),
            ),
            models.CheckConstraint(
                name="engagement_dates_ordered",
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
            ),
            models.CheckConstraint(
                name="engagement_budget_not_negative",
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
            ),
        ]

    # The access module resolves every nested model to its engagement through this path.
    engagement_path = ""

    def __str__(self):
        return f"{self.reference} {self.title}"


def document_storage_key(instance, filename):
    """Server-generated key; the user's file name is kept only as metadata."""
    engagement = instance.engagement
    return f"{engagement.client_id}/{engagement.pk}/documents/{uuid.uuid4().hex}"


class Document(models.Model):
    """An input file in an engagement's data room (client → provider)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    classification = models.CharField(
        max_length=16,
        choices=DocumentClassification.choices,
        default=DocumentClassification.CONFIDENTIAL,
    )
    file = models.FileField(upload_to=document_storage_key, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    engagement_path = "engagement"

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="document_classification_valid",
                condition=Q(classification__in=DocumentClassification.values),
            ),
        ]

    def __str__(self):
        return self.title
