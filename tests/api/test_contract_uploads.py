"""API.md, Submission and `documents/`: the data room's upload and audited download, and every
kind of bad upload, through both upload endpoints. A refused upload answers 400 with a
message that says why, and stores nothing: no row, and no file under MEDIA_ROOT."""

import hashlib
import io
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from deliverables.models import Submission
from engagements import services as engagement_services
from engagements.models import Document
from kpo.audit.models import AuditEvent

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
STORAGE_KEY = re.compile(r"^\d+/\d+/(submissions|documents)/[0-9a-f]{32}$")


def zip_of(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def media_files():
    return {str(p) for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def messages(response):
    """Every message of an error answer, whether field errors or a `detail`."""
    body = response.json()
    return " ".join(
        text
        for value in body.values()
        for text in (value if isinstance(value, list) else [value])
        if isinstance(text, str)
    )


class Target:
    """One of the two upload endpoints, called as the user who may upload there."""

    def __init__(self, kind, api, world):
        self.kind = kind
        if kind == "submission":
            self.deliverable = world.deliverable("Safety signal memo")
            self.client = api("bio.analyst")
            self.url = f"/api/v1/deliverables/{self.deliverable.pk}/submissions/"
            self.fields = {"notes": "Upload test"}
            self.model = Submission
        else:
            self.client = api("alpha.manager")
            self.url = "/api/v1/documents/"
            self.fields = {"engagement": world.phase_two.pk, "title": "Upload test"}
            self.model = Document

    def post(self, name, content, **fields):
        data = self.fields | fields
        if name is not None:
            data["file"] = SimpleUploadedFile(name, content, content_type="application/pdf")
        return self.client.post(self.url, data, format="multipart")

    def post_raw(self, filename, content):
        """The multipart body written by hand, so that the file name reaches the server exactly
        as given (Django's test client would already strip any directory from it)."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
            for key, value in self.fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
            "\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.client.post(
            self.url, b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}"
        )

    def rows(self):
        return self.model.objects.count()


@pytest.fixture(params=["submission", "document"])
def target(request, api, world):
    return Target(request.param, api, world)


@pytest.fixture
def nothing_stored(target):
    """Asserts, after the test's request, that no row and no file were added."""
    rows, files = target.rows(), media_files()
    yield
    assert target.rows() == rows
    assert media_files() == files


BAD_UPLOADS = [
    # (name, content, settings to override, what the message must say)
    pytest.param("tool.exe", EXE, {}, "File type not allowed: .exe", id="exe-extension"),
    pytest.param("README", b"hello", {}, "without an extension", id="no-extension"),
    pytest.param(
        "report.docx",
        PDF,
        {},
        "content is a PDF but its name ends in .docx",
        id="pdf-named-docx",
    ),
    pytest.param("chart.pdf", PNG, {}, "PNG, which is not accepted", id="png-named-pdf"),
    pytest.param("tool.pdf", EXE, {}, "not accepted", id="exe-named-pdf"),
    pytest.param("empty.pdf", b"", {}, "empty", id="empty-file"),
    pytest.param("data.csv", b"id,value\n1,\x002\n", {}, "NUL bytes", id="nul-bytes-csv"),
    pytest.param("notes.txt", b"caf\xe9 au lait\n", {}, "not UTF-8 text", id="latin-1-txt"),
    pytest.param(
        "bundle.zip",
        zip_of({f"part{i}.csv": b"a,b\n" for i in range(4)}),
        {"UPLOAD_ZIP_MAX_ENTRIES": 3},
        "more than 3 entries",
        id="zip-too-many-entries",
    ),
    pytest.param(
        "bomb.zip",
        zip_of({"zeros.csv": b"0" * 200_000}),
        {"UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES": 100 * 1024},
        "expands to more than 100 KB",
        id="zip-bomb",
    ),
    pytest.param(
        "report.docx",
        zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"x" * 200_000}),
        {"UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES": 100 * 1024},
        "expands to more than 100 KB",
        id="docx-bomb",
    ),
    pytest.param(
        "broken.zip",
        b"PK\x03\x04" + bytes(100),
        {},
        "damaged",
        id="damaged-zip",
    ),
    pytest.param(
        "big.pdf",
        PDF + b"%" * 4096,
        {"UPLOAD_MAX_BYTES": 1024},
        "larger than the 1 KB limit",
        id="file-over-the-limit",
    ),
    pytest.param(
        "huge.pdf",
        PDF + b"%" * (200 * 1024),
        {"UPLOAD_MAX_BYTES": 1024},
        "larger than the 1 KB limit",
        id="body-over-the-limit",
    ),
]


@pytest.mark.parametrize("name, content, overrides, reason", BAD_UPLOADS)
def test_a_bad_upload_answers_400_saying_why_and_stores_nothing(
    target, nothing_stored, name, content, overrides, reason
):
    with override_settings(**overrides):
        response = target.post(name, content)

    assert response.status_code == 400, response.content
    assert reason in messages(response)


def test_a_bad_submission_leaves_the_deliverable_and_its_trail_as_they_were(api, world):
    memo = world.deliverable("Safety signal memo")
    events = AuditEvent.objects.filter(engagement=memo.engagement).count()

    response = api("bio.analyst").post(
        f"/api/v1/deliverables/{memo.pk}/submissions/",
        {"file": SimpleUploadedFile("tool.exe", EXE)},
        format="multipart",
    )

    assert response.status_code == 400
    memo.refresh_from_db()
    assert (memo.status, memo.current_version) == ("in_progress", 0)
    assert AuditEvent.objects.filter(engagement=memo.engagement).count() == events


def test_a_request_without_the_file_field_answers_400(target, nothing_stored):
    response = target.post(None, None)

    assert response.status_code == 400
    assert "file" in response.json()


def test_a_json_body_is_not_an_upload(target, nothing_stored):
    response = target.client.post(target.url, target.fields | {"file": "JVBERi0="}, format="json")

    assert response.status_code == 415


@pytest.mark.parametrize(
    "name, shown",
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("/var/www/index.pdf", "index.pdf"),
        ("report\x00.exe.pdf", "report.exe.pdf"),
        ("memo\u202efdp.pdf", "memofdp.pdf"),
        ("..", None),
    ],
)
def test_the_users_file_name_is_sanitised_and_never_the_storage_key(target, name, shown):
    before = media_files()

    response = target.post_raw(name, PDF)

    if shown is None:  # nothing is left of the name, so no file was received
        assert response.status_code == 400
        assert "file" in response.json()
        assert media_files() == before
        return
    assert response.status_code == 201, response.content
    assert response.json()["filename"] == shown
    stored = target.model.objects.get(pk=response.json()["id"])
    assert stored.filename == shown
    assert STORAGE_KEY.match(stored.file.name), stored.file.name
    (new_file,) = media_files() - before
    assert Path(new_file).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert Path(new_file).read_bytes() == PDF


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("figures.csv", b"arm,n\nA,120\nB,118\n", "text/csv"),
        ("notes.txt", "Données propres\n".encode(), "text/plain"),
        ("bundle.zip", zip_of({"a.csv": b"a\n1\n"}), "application/zip"),
        (
            "report.docx",
            zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_each_accepted_type_is_stored_with_the_type_read_from_its_content(
    target, name, content, content_type
):
    response = target.post(name, content)

    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == content_type
    assert response.json()["size"] == len(content)
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()


# -- the data room ----------------------------------------------------------------------------

DOCUMENTS = "/api/v1/documents/"


def test_a_client_manager_uploads_a_document_to_the_data_room(api, world, engagements):
    response = api("alpha.manager").post(
        DOCUMENTS,
        {
            "engagement": engagements.phase_two.pk,
            "file": SimpleUploadedFile("SAP appendix.pdf", PDF),
            "title": "SAP appendix",
            "classification": "restricted",
        },
        format="multipart",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["engagement"] == engagements.phase_two.pk
    assert body["title"] == "SAP appendix"
    assert body["classification"] == "restricted"
    assert body["filename"] == "SAP appendix.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["uploaded_by"] == world.user("alpha.manager").pk
    assert body["uploaded_at"]


def test_the_title_defaults_to_the_file_name(api, engagements):
    response = api("alpha.admin").post(
        DOCUMENTS,
        {"engagement": engagements.phase_two.pk, "file": SimpleUploadedFile("raw.csv", b"a\n")},
        format="multipart",
    )

    assert response.status_code == 201
    assert response.json()["title"] == "raw.csv"


@pytest.mark.parametrize("username", ["alpha.viewer", "bio.admin", "bio.analyst", "bio.lead"])
def test_only_client_admins_and_managers_upload_documents(api, engagements, username):
    before = Document.objects.count()

    response = api(username).post(
        DOCUMENTS,
        {"engagement": engagements.phase_two.pk, "file": SimpleUploadedFile("x.pdf", PDF)},
        format="multipart",
    )

    assert response.status_code == 403
    assert Document.objects.count() == before


def test_an_engagement_the_caller_cannot_see_is_not_a_valid_choice(api, engagements):
    response = api("northwind.manager").post(
        DOCUMENTS,
        {"engagement": engagements.phase_two.pk, "file": SimpleUploadedFile("x.pdf", PDF)},
        format="multipart",
    )

    assert response.status_code == 400
    assert "engagement" in response.json()


def test_the_data_room_of_a_closed_engagement_answers_409(api, world, engagements):
    phase_two = engagements.phase_two
    engagement_services.engagement_terminate(
        actor=world.user("alpha.manager"), engagement=phase_two
    )

    response = api("alpha.manager").post(
        DOCUMENTS,
        {"engagement": phase_two.pk, "file": SimpleUploadedFile("x.pdf", PDF)},
        format="multipart",
    )

    assert response.status_code == 409
    assert "closed" in response.json()["detail"]


def test_an_invalid_classification_answers_400(api, engagements):
    response = api("alpha.manager").post(
        DOCUMENTS,
        {
            "engagement": engagements.phase_two.pk,
            "file": SimpleUploadedFile("x.pdf", PDF),
            "classification": "top_secret",
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert "classification" in response.json()


def test_documents_are_listed_and_filtered_by_engagement(api, world, engagements):
    client = api("bio.analyst")

    phase_two = client.get(DOCUMENTS, {"engagement": engagements.phase_two.pk}).json()
    rwe = client.get(DOCUMENTS, {"engagement": engagements.rwe.pk}).json()

    assert [d["title"] for d in phase_two["results"]] == ["Trial protocol v3"]
    assert rwe["results"] == []
    assert client.get(DOCUMENTS, {"engagement": "abc"}).status_code == 400


def test_a_document_download_returns_the_file_as_an_attachment_and_is_audited(api, world):
    document = world.document(world.phase_two)

    response = api("bio.analyst").get(f"{DOCUMENTS}{document.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert document.filename in response["Content-Disposition"]
    content = b"".join(response.streaming_content)  # read to the end: the response closes
    assert hashlib.sha256(content).hexdigest() == document.sha256
    event = AuditEvent.objects.get(action="document.download", target_id=str(document.pk))
    assert event.actor == world.user("bio.analyst")


@pytest.mark.parametrize("username", ["northwind.manager", "bio.writer", "ledger.admin"])
def test_a_document_of_someone_elses_engagement_answers_404(api, world, username):
    document = world.document(world.phase_two)

    assert api(username).get(f"{DOCUMENTS}{document.pk}/").status_code == 404
    assert api(username).get(f"{DOCUMENTS}{document.pk}/download/").status_code == 404
    assert not AuditEvent.objects.filter(action="document.download").exists()
