from django.db import models


class Role(models.TextChoices):
    CLIENT_ADMIN = "client_admin", "Client admin"
    CLIENT_MANAGER = "client_manager", "Client manager"
    CLIENT_VIEWER = "client_viewer", "Client viewer"
    PROVIDER_ADMIN = "provider_admin", "Provider admin"
    ENGAGEMENT_LEAD = "engagement_lead", "Engagement lead"
    ANALYST = "analyst", "Analyst"
    QA_REVIEWER = "qa_reviewer", "QA reviewer"


CLIENT_ROLES = frozenset({Role.CLIENT_ADMIN, Role.CLIENT_MANAGER, Role.CLIENT_VIEWER})
PROVIDER_ROLES = frozenset(
    {Role.PROVIDER_ADMIN, Role.ENGAGEMENT_LEAD, Role.ANALYST, Role.QA_REVIEWER}
)


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    DIGEST = "digest", "Daily digest"
    NONE = "none", "Never"
