"""Helpers for the engagement service tests: fresh engagements in any lifecycle state, built
through the services exactly as the demo users would build them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from engagements import services
from engagements.choices import EngagementStatus
from kpo.accounts.choices import Role
from kpo.audit.models import AuditEvent
from kpo.notifications.models import Notification
from vendors.models import Provider, ServiceLine


@pytest.fixture
def service_line(db):
    return lambda slug: ServiceLine.objects.get(slug=slug)


@pytest.fixture
def provider(db):
    return lambda slug: Provider.objects.get(slug=slug)


@pytest.fixture
def new_engagement(users, provider, service_line):
    """`new_engagement(status)`: a fresh Alpha ↔ Bio-Analytics engagement in `status`, taken
    there through the services. Other providers and terms can be passed as keywords."""

    def build(
        status=EngagementStatus.DRAFT,
        *,
        actor=None,
        provider_slug="bio-analytics",
        line="clinical_data_analysis",
        responder=None,
        **terms,
    ):
        manager = actor or users.alpha_manager
        terms.setdefault("title", "Biomarker exploratory analysis")
        terms.setdefault("brief", "Which biomarkers predict response?")
        terms.setdefault("start_date", timezone.localdate())
        terms.setdefault("end_date", timezone.localdate() + timedelta(days=90))
        terms.setdefault("budget", Decimal("50000.00"))
        engagement = services.engagement_create(
            actor=manager,
            provider=provider(provider_slug),
            service_line=service_line(line),
            **terms,
        )
        if status == EngagementStatus.DRAFT:
            return engagement
        engagement = services.engagement_propose(actor=manager, engagement=engagement)
        if status == EngagementStatus.PROPOSED:
            return engagement
        engagement = services.engagement_accept(
            actor=responder or users.bio_admin, engagement=engagement
        )
        if status == EngagementStatus.ACTIVE:
            return engagement
        if status == EngagementStatus.ON_HOLD:
            return services.engagement_hold(actor=manager, engagement=engagement)
        if status == EngagementStatus.COMPLETED:
            return services.engagement_complete(actor=manager, engagement=engagement)
        if status == EngagementStatus.TERMINATED:
            return services.engagement_terminate(actor=manager, engagement=engagement)
        raise ValueError(status)

    return build


@pytest.fixture
def lexpoint_admin(db, provider):
    """The demo has no LexPoint user and there is no service that creates users (accounts are
    provisioned by platform staff), so this one is created directly."""
    return get_user_model().objects.create_user(
        "lexpoint.admin",
        "lexpoint.admin@lexpoint.example",
        "demo-password",
        role=Role.PROVIDER_ADMIN,
        provider=provider("lexpoint"),
    )


@pytest.fixture
def snapshot(db):
    """`snapshot(engagement)`: what a refused change must leave untouched — the row, its
    deliverables, its audit trail and the notifications about it."""
    return _snapshot


def _snapshot(engagement):
    engagement.refresh_from_db()
    return {
        "status": engagement.status,
        "updated_at": engagement.updated_at,
        "held_since": engagement.held_since,
        "provider": engagement.provider_id,
        "service_line": engagement.service_line_id,
        "title": engagement.title,
        "audit_events": AuditEvent.objects.filter(engagement=engagement).count(),
        "notifications": Notification.objects.filter(engagement=engagement).count(),
        "deliverables": list(
            engagement.deliverables.order_by("pk").values_list("status", "due_at")
        ),
    }
