"""The demo world of shared/DEMO.md, named the way the design's role table names people.

Every arrangement goes through the services, acting as the demo user who would really do it.
"""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.choices import OPEN_STATUSES
from engagements import services as engagement_services
from engagements.models import Engagement
from kpo.domain import NotVisible
from vendors.models import AnalystTeam, Provider, ServiceLine

# The role table's columns, each played by one demo user.
ROLE_USERS = {
    "c_admin": "alpha.admin",
    "c_manager": "alpha.manager",
    "c_viewer": "alpha.viewer",
    "p_admin": "bio.admin",
    "e_lead": "bio.lead",
    "analyst": "bio.analyst",
    "qa": "bio.qa",
}
ROLES = tuple(ROLE_USERS)

# People with no business on Alpha's work with Bio-Analytics: another client, another
# provider, and a Bio-Analytics analyst whose team is assigned to none of it.
OUTSIDERS = ("northwind.manager", "ledger.analyst", "ledger.admin", "bio.writer")

GOOD_SCORES = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}


def pdf(name="upload.pdf"):
    """A small but genuine PDF, as `kpo.files.inspect_upload` wants it."""
    return SimpleUploadedFile(
        name,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
        content_type="application/pdf",
    )


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def must_see(queryset, expected):
    """Raise `NotVisible` (what a view turns into 404) unless `queryset` holds all of
    `expected`; `expected` must not be empty, or the check would prove nothing."""
    wanted = {obj.pk for obj in expected}
    assert wanted, "the demo data should have something to look for here"
    if not wanted <= ids(queryset):
        raise NotVisible("Not found.")


class Demo:
    """Demo users, engagements, deliverables and teams, fetched fresh on every access."""

    def __init__(self, users, engagements, deliverable):
        self.users = users
        self.engagements = engagements
        self._deliverable = deliverable

    def user(self, role_or_username):
        return self.users[ROLE_USERS.get(role_or_username, role_or_username)]

    @property
    def manager(self):
        return self.users["alpha.manager"]

    @property
    def provider_admin(self):
        return self.users["bio.admin"]

    @property
    def phase_two(self):
        return self.engagements.phase_two

    @property
    def rwe(self):
        return self.engagements.rwe

    @property
    def eu_banks(self):
        return self.engagements.eu_banks

    def deliverable(self, title):
        return self._deliverable(title)

    def team(self, name):
        return AnalystTeam.objects.get(provider__slug="bio-analytics", name=name)

    @property
    def bio(self):
        return Provider.objects.get(slug="bio-analytics")

    def draft(self, title="Biomarker discovery"):
        """A new draft of Alpha's with Bio-Analytics, shared with the viewer."""
        engagement = engagement_services.engagement_create(
            actor=self.manager,
            provider=self.bio,
            service_line=ServiceLine.objects.get(slug="clinical_data_analysis"),
            title=title,
        )
        engagement_services.engagement_grant_access(
            actor=self.manager, engagement=engagement, user=self.users["alpha.viewer"]
        )
        return engagement

    def staff_rwe(self) -> Engagement:
        """Put every role of the table on the RWE proposal: the viewer is granted it, the
        provider names bio.lead as lead and puts Biostatistics on it."""
        rwe = self.rwe
        engagement_services.engagement_grant_access(
            actor=self.manager, engagement=rwe, user=self.users["alpha.viewer"]
        )
        engagement_services.engagement_assign_lead(
            actor=self.provider_admin, engagement=rwe, lead=self.users["bio.lead"]
        )
        engagement_services.engagement_assign_team(
            actor=self.provider_admin, engagement=rwe, team=self.team("Biostatistics")
        )
        return rwe

    def close_open_deliverables(self, engagement):
        for deliverable in engagement.deliverables.filter(status__in=OPEN_STATUSES):
            deliverable_services.deliverable_cancel(actor=self.manager, deliverable=deliverable)

    def plan_due_at(self):
        return timezone.now() + timedelta(days=14)
