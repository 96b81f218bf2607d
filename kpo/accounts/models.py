from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from .choices import CLIENT_ROLES, PROVIDER_ROLES, EmailMode, Role


class User(AbstractUser):
    """A person. Belongs to exactly one organisation — a client or a provider — with one role
    of that side; platform staff (superusers) belong to none."""

    client = models.ForeignKey(
        "engagements.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    provider = models.ForeignKey(
        "vendors.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    email_mode = models.CharField(
        max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    # The newest notification already summarised in a digest e-mail.
    digested_notification_id = models.BigIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_one_organisation_with_matching_role",
                condition=(
                    Q(client__isnull=False, provider__isnull=True, role__in=sorted(CLIENT_ROLES))
                    | Q(
                        client__isnull=True, provider__isnull=False, role__in=sorted(PROVIDER_ROLES)
                    )
                    | Q(client__isnull=True, provider__isnull=True, role="", is_superuser=True)
                ),
                violation_error_message=(
                    "A user belongs to exactly one client or one provider, with a role of that "
                    "side; only platform staff belong to none."
                ),
            ),
        ]

    @property
    def is_client_side(self) -> bool:
        return self.client_id is not None

    @property
    def is_provider_side(self) -> bool:
        return self.provider_id is not None

    @property
    def organisation(self):
        return self.client or self.provider

    def __str__(self):
        return self.get_full_name() or self.username
