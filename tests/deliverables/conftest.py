"""Helpers for the deliverable service tests: uploads, and fresh deliverables of the Phase II
engagement taken to any status through the services, as the demo users would."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from deliverables import services
from deliverables.choices import DeliverableStatus
from deliverables.models import Deliverable, Review, Submission
from kpo.audit.models import AuditEvent
from kpo.notifications.models import Notification

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
GOOD_SCORES = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}

S = DeliverableStatus


@pytest.fixture
def pdf():
    """`pdf(name, body)`: a minimal PDF upload."""

    def make(name="report.pdf", body=PDF):
        return SimpleUploadedFile(name, body, content_type="application/pdf")

    return make


@pytest.fixture
def media_files():
    """`media_files()`: every file currently stored, as paths relative to the media root."""

    def listing():
        root = settings.MEDIA_ROOT
        return {
            os.path.relpath(os.path.join(folder, name), root)
            for folder, _, names in os.walk(root)
            for name in names
        }

    return listing


@pytest.fixture
def deliverable_in(users, engagements, pdf):
    """`deliverable_in(status)`: a new Phase II deliverable (QA required) taken to `status`."""

    def build(status=S.PLANNED, *, due_in=timedelta(days=7), engagement=None, title="Dose study"):
        engagement = engagement or engagements.phase_two
        manager, analyst = users.alpha_manager, users.bio_analyst
        item = services.deliverable_plan(
            actor=manager,
            engagement=engagement,
            title=title,
            due_at=timezone.now() + due_in,
            assignee=analyst,
        )
        steps = {
            S.IN_PROGRESS: lambda: services.deliverable_start(actor=analyst, deliverable=item),
            S.IN_QA: lambda: services.deliverable_submit(
                actor=analyst, deliverable=item, file=pdf("v1.pdf")
            ),
            S.IN_REVIEW: lambda: services.deliverable_qa(
                actor=users.bio_qa, deliverable=item, decision="pass"
            ),
        }
        path = [S.IN_PROGRESS, S.IN_QA, S.IN_REVIEW]
        finals = {
            S.CHANGES_REQUESTED: "request_changes",
            S.ACCEPTED: "accept",
            S.REJECTED: "reject",
        }
        if status in path:
            steps_needed = path[: path.index(status) + 1]
        elif status in finals:
            steps_needed = path
        else:
            steps_needed = []
        for step in steps_needed:
            steps[step]()
        if status in finals:
            services.deliverable_review(
                actor=manager,
                deliverable=item,
                decision=finals[status],
                scores=GOOD_SCORES if status == S.ACCEPTED else None,
            )
        if status == S.CANCELLED:
            services.deliverable_cancel(actor=manager, deliverable=item)
        item.refresh_from_db()
        assert item.status == status
        return item

    return build


@pytest.fixture
def snapshot(db):
    """`snapshot(deliverable)`: what a refused action must leave untouched."""

    def take(deliverable):
        row = Deliverable.objects.values().get(pk=deliverable.pk)
        return {
            "row": row,
            "submissions": Submission.objects.filter(deliverable=deliverable).count(),
            "reviews": Review.objects.filter(deliverable=deliverable).count(),
            "comments": deliverable.comments.count(),
            "audit_events": AuditEvent.objects.filter(engagement_id=row["engagement_id"]).count(),
            "notifications": Notification.objects.filter(deliverable=deliverable).count(),
        }

    return take
