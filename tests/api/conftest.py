"""Fixtures for the REST API tests: an API client per demo user, and the demo world by name.

Everything a test needs beyond shared/DEMO.md is made through the services, by the demo user
who would really do it, inside the test's own transaction (so it is rolled back after it).
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from deliverables import services as deliverable_services
from deliverables.choices import OPEN_STATUSES
from deliverables.models import Submission
from engagements import services as engagement_services
from engagements.models import Client, Document
from kpo.demo import DEMO_PASSWORD
from kpo.notifications import services as notification_services
from kpo.notifications.choices import NotificationKind
from kpo.notifications.models import Notification
from vendors.models import AnalystTeam, Provider, ServiceLine, VendorApproval

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"

# Who administers each demo organisation (Northwind has no client admin in the demo).
ORGANISATION_ADMINS = {
    "alpha-pharma": "alpha.admin",
    "bio-analytics": "bio.admin",
    "ledger-research": "ledger.admin",
}


def pdf(name="upload.pdf"):
    """A small but genuine PDF; a fresh one per request, since an upload is read once."""
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


class World:
    """Demo objects by name, fetched fresh on every access, and the extra arrangements the
    API tests need."""

    def __init__(self, users, engagements, deliverable):
        self._users = users
        self._engagements = engagements
        self._deliverable = deliverable

    # -- the demo data by name ---------------------------------------------------------

    def user(self, username):
        return self._users[username]

    @property
    def phase_two(self):
        return self._engagements.phase_two

    @property
    def rwe(self):
        return self._engagements.rwe

    @property
    def eu_banks(self):
        return self._engagements.eu_banks

    def engagement(self, title):
        return {
            "Phase II oncology trial analysis": self._engagements.phase_two,
            "Real-world evidence dashboard": self._engagements.rwe,
            "EU banks equity coverage": self._engagements.eu_banks,
        }[title]

    def deliverable(self, title):
        return self._deliverable(title)

    def submission(self, title):
        """The latest version submitted for the deliverable of that title."""
        return Submission.objects.filter(deliverable__title=title).order_by("-version").first()

    def client(self, slug):
        return Client.objects.get(slug=slug)

    def provider(self, slug):
        return Provider.objects.get(slug=slug)

    def service_line(self, slug):
        return ServiceLine.objects.get(slug=slug)

    def team(self, name):
        return AnalystTeam.objects.get(name=name)

    def approval(self, client_slug, provider_slug):
        return VendorApproval.objects.get(client__slug=client_slug, provider__slug=provider_slug)

    # -- arrangements, each through the services ----------------------------------------

    def document(self, engagement):
        """A data-room document of the engagement; its manager uploads one if there is none."""
        existing = Document.objects.filter(engagement=engagement).order_by("id").first()
        if existing is not None:
            return existing
        return engagement_services.document_upload(
            actor=engagement.client_manager,
            engagement=engagement,
            file=pdf("input.pdf"),
            title="Input data",
        )

    def webhook(self, organisation_slug):
        """A webhook of the organisation, registered by its admin."""
        return notification_services.webhook_create(
            actor=self.user(ORGANISATION_ADMINS[organisation_slug]),
            url=f"https://hooks.example.com/{organisation_slug}",
            events=[NotificationKind.COMMENT_ADDED],
            secret="a-long-enough-webhook-secret",
        )

    def notification_for(self, username):
        """A notification addressed to that user alone."""
        user = self.user(username)
        notification_services.notify(
            kind=NotificationKind.ENGAGEMENT_STATUS_CHANGED,
            recipients=[user],
            title=f"Something happened for {username}",
        )
        return Notification.objects.filter(user=user).latest("id")

    def draft(self, title="Biomarker discovery"):
        """A new draft of Alpha's with Bio-Analytics, shared with the viewer."""
        manager = self.user("alpha.manager")
        engagement = engagement_services.engagement_create(
            actor=manager,
            provider=self.provider("bio-analytics"),
            service_line=self.service_line("clinical_data_analysis"),
            title=title,
        )
        engagement_services.engagement_grant_access(
            actor=manager, engagement=engagement, user=self.user("alpha.viewer")
        )
        return engagement

    def staff_rwe(self):
        """Put every role of the table on the RWE proposal: the viewer is granted it, the
        provider names bio.lead as its lead and puts Biostatistics on it."""
        rwe, admin = self.rwe, self.user("bio.admin")
        engagement_services.engagement_grant_access(
            actor=self.user("alpha.manager"), engagement=rwe, user=self.user("alpha.viewer")
        )
        engagement_services.engagement_assign_lead(
            actor=admin, engagement=rwe, lead=self.user("bio.lead")
        )
        engagement_services.engagement_assign_team(
            actor=admin, engagement=rwe, team=self.team("Biostatistics")
        )
        return rwe

    def hold(self, engagement):
        return engagement_services.engagement_hold(
            actor=engagement.client_manager, engagement=engagement, reason="Budget review"
        )

    def close_open_deliverables(self, engagement):
        for deliverable in engagement.deliverables.filter(status__in=OPEN_STATUSES):
            deliverable_services.deliverable_cancel(
                actor=engagement.client_manager, deliverable=deliverable
            )

    def submit(self, title, username="bio.analyst"):
        return deliverable_services.deliverable_submit(
            actor=self.user(username), deliverable=self.deliverable(title), file=pdf()
        )

    @staticmethod
    def due_at(days=14):
        return timezone.now() + timedelta(days=days)


@pytest.fixture
def world(users, engagements, deliverable):
    return World(users, engagements, deliverable)


@pytest.fixture
def api(users):
    """`api("alpha.manager")`: an API client authenticated as that demo user;
    `api(None)`: a client that sends no credentials at all."""

    def make(username=None):
        client = APIClient()
        if username is not None:
            client.force_authenticate(users[username])
        return client

    return make


@pytest.fixture
def cheap_password(settings):
    """Checking a password at the production hasher's cost takes half a second. A login test
    that only needs the demo password to work re-hashes it with a fast hasher, inside its own
    transaction: `cheap_password(user)`."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def rehash(user):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    return rehash
