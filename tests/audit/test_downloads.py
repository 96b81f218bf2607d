"""Every download of a data-room document or a submitted version is recorded."""

import pytest

from deliverables.models import Submission
from deliverables.services import submission_download
from engagements.models import Document
from engagements.services import document_download
from kpo.audit.models import AuditEvent
from kpo.domain import NotVisible


@pytest.fixture
def protocol(engagements):
    return Document.objects.get(engagement=engagements.phase_two, title="Trial protocol v3")


@pytest.fixture
def interim_v2(deliverable):
    return Submission.objects.get(deliverable=deliverable("Interim efficacy report"), version=2)


@pytest.mark.parametrize("username", ["bio.analyst", "alpha.viewer", "alpha.manager"])
def test_downloading_a_document_is_audited(users, protocol, username):
    with document_download(actor=users[username], document=protocol) as opened:
        content = opened.read()

    assert content.startswith(b"%PDF-")
    event = AuditEvent.objects.filter(action="document.download").latest("id")
    assert event.actor == users[username]
    assert event.engagement == protocol.engagement
    assert event.target_id == str(protocol.pk)
    assert event.changes == {"filename": protocol.filename, "sha256": protocol.sha256}


def test_downloading_a_submission_is_audited(users, interim_v2):
    with submission_download(actor=users.alpha_manager, submission=interim_v2) as opened:
        content = opened.read()

    assert content.startswith(b"%PDF-")
    event = AuditEvent.objects.filter(action="submission.download").latest("id")
    assert event.actor == users.alpha_manager
    assert event.engagement == interim_v2.deliverable.engagement
    assert event.target_id == str(interim_v2.pk)
    assert event.changes == {"version": 2, "sha256": interim_v2.sha256}


def test_each_download_is_a_separate_event(users, interim_v2):
    count = AuditEvent.objects.filter(action="submission.download").count()

    for _ in range(3):
        submission_download(actor=users.bio_qa, submission=interim_v2).close()

    assert AuditEvent.objects.filter(action="submission.download").count() == count + 3


@pytest.mark.parametrize("username", ["bio.writer", "northwind.manager", "ledger.admin"])
def test_someone_not_on_the_engagement_cannot_download(users, protocol, interim_v2, username):
    with pytest.raises(NotVisible):
        document_download(actor=users[username], document=protocol)
    with pytest.raises(NotVisible):
        submission_download(actor=users[username], submission=interim_v2)
