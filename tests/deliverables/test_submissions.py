"""Submitting versions: where they go next, how they are numbered and stored, and what is
refused."""

import hashlib
import re
import zipfile
from io import BytesIO

import pytest

from deliverables import services
from deliverables.choices import DeliverableStatus
from deliverables.models import Submission
from engagements import services as engagement_services
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, InvalidTransition

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"

S = DeliverableStatus


def test_submitting_on_an_engagement_with_qa_sends_the_version_to_qa(users, deliverable, pdf):
    memo = deliverable("Safety signal memo")
    assert memo.engagement.qa_required

    submission = services.deliverable_submit(
        actor=users.bio_analyst, deliverable=memo, file=pdf("memo.pdf"), notes="First cut."
    )

    memo.refresh_from_db()
    assert memo.status == S.IN_QA
    assert memo.current_version == submission.version == 1
    assert submission.notes == "First cut."
    assert submission.submitted_by == users.bio_analyst
    # Nothing has reached the client yet.
    assert memo.delivered_at is None
    assert memo.review_started_at is None


def test_submitting_without_qa_goes_straight_to_the_client_and_counts_as_delivered(
    users, deliverable, pdf
):
    model = deliverable("Q4 earnings model")
    assert not model.engagement.qa_required

    services.deliverable_submit(actor=users.ledger_analyst, deliverable=model, file=pdf())

    model.refresh_from_db()
    assert model.status == S.IN_REVIEW
    assert model.delivered_at is not None
    assert model.review_started_at == model.delivered_at
    assert model.sla_state == "met"


@pytest.mark.parametrize(
    "title",
    ["Subgroup response analysis", "Interim efficacy report", "Statistical analysis plan"],
)
def test_submitting_outside_in_progress_or_changes_requested_is_refused(
    users, deliverable, pdf, snapshot, media_files, title
):
    item = deliverable(title)
    before, files = snapshot(item), media_files()

    with pytest.raises(InvalidTransition):
        services.deliverable_submit(actor=users.bio_analyst, deliverable=item, file=pdf())

    assert snapshot(item) == before
    assert media_files() == files


def test_submitting_while_in_qa_is_refused(users, deliverable_in, pdf, snapshot):
    item = deliverable_in(S.IN_QA)
    before = snapshot(item)

    with pytest.raises(InvalidTransition):
        services.deliverable_submit(actor=users.bio_analyst, deliverable=item, file=pdf())

    assert snapshot(item) == before


def test_submitting_while_the_engagement_is_on_hold_is_refused(
    users, engagements, deliverable, pdf, snapshot
):
    engagement_services.engagement_hold(actor=users.alpha_manager, engagement=engagements.phase_two)
    memo = deliverable("Safety signal memo")
    before = snapshot(memo)

    with pytest.raises(InvalidTransition):
        services.deliverable_submit(actor=users.bio_analyst, deliverable=memo, file=pdf())

    assert snapshot(memo) == before


@pytest.mark.parametrize("username", ["bio.qa", "alpha.manager"])
def test_only_analysts_and_leads_submit(users, deliverable, pdf, snapshot, username):
    memo = deliverable("Safety signal memo")
    before = snapshot(memo)

    with pytest.raises(ActionNotAllowed):
        services.deliverable_submit(actor=users[username], deliverable=memo, file=pdf())

    assert snapshot(memo) == before


def test_the_facts_of_the_file_are_recorded(users, deliverable, pdf):
    body = PDF + b"% safety signals\n"

    submission = services.deliverable_submit(
        actor=users.bio_analyst,
        deliverable=deliverable("Safety signal memo"),
        file=pdf("Safety memo.pdf", body),
    )

    submission.refresh_from_db()
    assert submission.sha256 == hashlib.sha256(body).hexdigest()
    assert submission.size == len(body)
    assert submission.content_type == "application/pdf"
    assert submission.filename == "Safety memo.pdf"
    with submission.file.open("rb") as stored:
        assert stored.read() == body


def test_the_storage_key_is_generated_by_the_server_and_never_uses_the_users_file_name(
    users, deliverable, pdf
):
    memo = deliverable("Safety signal memo")
    engagement = memo.engagement

    submission = services.deliverable_submit(
        actor=users.bio_analyst, deliverable=memo, file=pdf("../../ONC-221 secret findings.pdf")
    )

    key = submission.file.name
    assert re.fullmatch(
        rf"{engagement.client_id}/{engagement.pk}/submissions/[0-9a-f]{{32}}", key
    ), key
    assert "secret" not in key
    assert ".pdf" not in key
    assert ".." not in key
    assert submission.filename == "ONC-221 secret findings.pdf"


def test_versions_are_numbered_in_order_and_the_first_is_never_overwritten(users, deliverable, pdf):
    memo = deliverable("Safety signal memo")
    first_body, second_body = PDF + b"% v1\n", PDF + b"% v2\n"

    first = services.deliverable_submit(
        actor=users.bio_analyst, deliverable=memo, file=pdf("memo.pdf", first_body)
    )
    services.deliverable_qa(
        actor=users.bio_qa, deliverable=memo, decision="return", comment="Add the SAE table."
    )
    second = services.deliverable_submit(
        actor=users.bio_analyst, deliverable=memo, file=pdf("memo.pdf", second_body)
    )

    assert [s.version for s in Submission.objects.filter(deliverable=memo)] == [1, 2]
    first.refresh_from_db()
    assert first.version == 1
    assert first.sha256 == hashlib.sha256(first_body).hexdigest()
    assert first.file.name != second.file.name
    with first.file.open("rb") as stored:
        assert stored.read() == first_body
    with second.file.open("rb") as stored:
        assert stored.read() == second_body
    memo.refresh_from_db()
    assert memo.current_version == 2
    assert memo.status == S.IN_QA


def exe():
    # The DOS/PE header is what marks a Windows executable, whatever the file is called.
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def docx_shaped_zip():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        pytest.param("tool.exe", exe(), id="exe-named-exe"),
        pytest.param("report.pdf", exe(), id="exe-named-pdf"),
        pytest.param("report.docx", PDF, id="pdf-named-docx"),
        pytest.param("report.docx", docx_shaped_zip(), id="plain-zip-named-docx"),
        pytest.param("report.csv", b"a,b\n\x00\x01", id="binary-named-csv"),
        pytest.param("report.pdf", b"", id="empty"),
        pytest.param("report", PDF, id="no-extension"),
    ],
)
def test_a_bad_upload_is_refused_and_stores_no_submission_and_no_file(
    users, deliverable, pdf, snapshot, media_files, name, body
):
    memo = deliverable("Safety signal memo")
    before, files = snapshot(memo), media_files()

    with pytest.raises(BusinessRuleViolation) as refused:
        services.deliverable_submit(actor=users.bio_analyst, deliverable=memo, file=pdf(name, body))

    assert refused.value.field == "file"
    assert snapshot(memo) == before
    assert not Submission.objects.filter(deliverable=memo).exists()
    assert media_files() == files
