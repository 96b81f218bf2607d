from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

from .choices import ApprovalStatus, CertificationKind, RiskTier


class ServiceLine(models.Model):
    """One kind of knowledge work from the fixed catalogue (`vendors.choices.SERVICE_LINES`)."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Provider(models.Model):
    """A KPO firm offering one or more service lines."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")
    service_lines = models.ManyToManyField(ServiceLine, related_name="providers", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Certification(models.Model):
    """A provider's security or privacy attestation, valid until `expires_on`."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="certifications")
    kind = models.CharField(max_length=16, choices=CertificationKind.choices)
    reference = models.CharField(max_length=100, blank=True)
    issued_on = models.DateField()
    expires_on = models.DateField()

    class Meta:
        ordering = ["provider", "kind", "-expires_on"]
        indexes = [models.Index(fields=["expires_on"], name="certification_expires_idx")]
        constraints = [
            models.CheckConstraint(
                name="certification_kind_valid", condition=Q(kind__in=CertificationKind.values)
            ),
            models.CheckConstraint(
                name="certification_expires_after_issue",
                condition=Q(expires_on__gt=models.F("issued_on")),
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.get_kind_display()} (until {self.expires_on})"


class VendorApproval(models.Model):
    """One client's due-diligence verdict on one provider; it lapses on `expires_on`."""

    client = models.ForeignKey(
        "engagements.Client", on_delete=models.CASCADE, related_name="vendor_approvals"
    )
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="approvals")
    status = models.CharField(
        max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices, default=RiskTier.MEDIUM)
    assessed_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["client", "provider"]
        indexes = [models.Index(fields=["expires_on"], name="approval_expires_idx")]
        constraints = [
            models.UniqueConstraint(fields=["client", "provider"], name="one_approval_per_pair"),
            models.CheckConstraint(
                name="approval_status_valid", condition=Q(status__in=ApprovalStatus.values)
            ),
            models.CheckConstraint(
                name="approval_risk_tier_valid", condition=Q(risk_tier__in=RiskTier.values)
            ),
        ]

    def __str__(self):
        return f"{self.client} → {self.provider}: {self.status}"


class AnalystTeam(models.Model):
    """A provider's team. Its `group` carries the team's engagement grants, so adding or
    removing a member changes what that member can see at once."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="analyst_team")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "name"], name="team_name_unique_per_provider"
            )
        ]

    def __str__(self):
        return self.name
