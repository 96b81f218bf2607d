"""The four ways a file comes in — data-room documents and deliverable versions, each through
the API and through the page — fed hostile files and file names: path traversal, absolute
and Windows paths, NUL and control characters, 300-character names, empty files, an archive
or a program named .pdf, a zip bomb (built here, at the real limit), an archive with too many
entries or a directory that lies about them, damaged archives, more files than allowed, and
files over the size limit.

Each is refused with a 4xx that says why, and nothing is stored (no row, no file anywhere
under the media root's parent folder). A hostile name on a good file is not refused: it is
cleaned for display and never used as a path, so that case checks where the file went.
"""

import io
import re
import struct
import uuid
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from deliverables.models import Submission
from engagements.models import Document
from tests.negative.support import (
    Snapshot,
    assert_api_refusal,
    assert_html_refusal,
    error_messages,
    explain,
    record,
    stored_files,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
STORAGE_KEY = re.compile(r"^\d+/\d+/(submissions|documents)/[0-9a-f]{32}$")
MEGABYTE = 1024 * 1024


def zip_of(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression, compresslevel=9) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@cache
def zip_bomb() -> bytes:
    """A zip of a few hundred KB that expands one megabyte past the real limit
    (UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES, 500 MB by default): zeros at the highest compression,
    written a megabyte at a time. Built once per run."""
    size = settings.UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES + MEGABYTE
    buffer = io.BytesIO()
    zeros = bytes(MEGABYTE)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.csv", "w", force_zip64=True) as entry,
    ):
        for _ in range(size // MEGABYTE):
            entry.write(zeros)
    return buffer.getvalue()


@cache
def too_many_entries() -> bytes:
    return zip_of({f"part{i}.csv": b"" for i in range(settings.UPLOAD_ZIP_MAX_ENTRIES + 1)})


def lying_sizes() -> bytes:
    """One byte of content whose directory says it expands to 4 GB."""
    data = bytearray(zip_of({"a.csv": b"1"}, zipfile.ZIP_STORED))
    directory = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, directory + 24, 0xFFFFFFFE)  # uncompressed size
    return bytes(data)


def lying_count() -> bytes:
    """A one-entry archive whose end record declares 65,534 entries."""
    data = bytearray(zip_of({"a.csv": b"1"}))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 0xFFFE, 0xFFFE)
    return bytes(data)


# (label, file name as sent, content): refused for what the file is, whatever its name says.
BAD_FILES = [
    ("an empty file", "empty.pdf", b""),
    ("a ZIP named .pdf", "report.pdf", zip_of({"a.csv": b"1"})),
    ("a program named .pdf", "report.pdf", EXE),
    ("an image named .pdf", "chart.pdf", PNG),
    ("a web page named .pdf", "page.pdf", HTML),
    ("a program named .docx", "report.docx", EXE),
    ("a program", "tool.exe", EXE),
    ("binary named .txt", "notes.txt", b"abc\x00def"),
    ("Latin-1 named .csv", "data.csv", b"caf\xe9\n"),
    ("a damaged ZIP", "bundle.zip", b"PK\x03\x04" + bytes(100)),
    ("a ZIP cut in half", "bundle.zip", zip_of({"a.csv": b"1" * 5000})[:60]),
    ("a ZIP whose directory lies about the sizes", "bundle.zip", lying_sizes()),
    ("a ZIP whose end record lies about the count", "bundle.zip", lying_count()),
]
LARGE_FILES = [
    # Built on first use: the bomb takes a few seconds to compress.
    ("a zip bomb past the real limit", "bomb.zip", zip_bomb),
    ("a zip bomb named .docx", "bomb.docx", zip_bomb),
    ("a ZIP with one entry too many", "parts.zip", too_many_entries),
]
# File names refused, whatever the (good) content: nothing of an accepted type is left once
# the directory part and the unsafe characters are taken off.
REFUSED_NAMES = [
    "../../etc/passwd",
    "../../../../../../etc/shadow",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "....//....//etc/passwd",
    "/",
    "..",
    "../",
    "memo.pdf\x00.exe",
    "\x00",
    "report\u202efdp.exe",
    "a" * 300,
    "a" * 296 + ".exe",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
]
# Names that leave an accepted name once cleaned: stored under a key of the server's, and
# shown without any directory or control character.
CLEANED_NAMES = [
    "../../../etc/report.pdf",
    "/var/www/html/report.pdf",
    "..\\..\\Users\\Public\\report.pdf",
    "C:\\reports\\q4.pdf",
    "report\x00.pdf",
    "rep\x1b[31mort.pdf",
    "a" * 296 + ".pdf",
]


@dataclass(frozen=True)
class Way:
    """One way a file comes in: an API endpoint or a page, the user who may upload there,
    and the other fields of a good upload."""

    name: str
    api: bool
    username: str
    model: type

    def path(self, world):
        if self.name == "documents API":
            return "/api/v1/documents/"
        if self.name == "submissions API":
            deliverable = world.deliverable("Safety signal memo")
            return f"/api/v1/deliverables/{deliverable.pk}/submissions/"
        if self.name == "data-room page":
            return reverse("engagements:document_upload", args=[world.phase_two.pk])
        deliverable = world.deliverable("Safety signal memo")
        return reverse("deliverables:submit", args=[deliverable.pk])

    def fields(self, world) -> dict:
        if self.name == "documents API":
            return {"engagement": str(world.phase_two.pk), "title": "Upload"}
        if self.name == "data-room page":
            return {"title": "Upload", "classification": "confidential"}
        return {"notes": "Upload"}


WAYS = [
    Way("documents API", True, "alpha.manager", Document),
    Way("submissions API", True, "bio.analyst", Submission),
    Way("data-room page", False, "alpha.manager", Document),
    Way("submission page", False, "bio.analyst", Submission),
]


def multipart(fields: dict, files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart body written by hand, so that each file name reaches the server exactly
    as given (the test client would already strip a directory from it)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    for filename, content in files:
        quoted = filename.replace('"', '\\"')
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"'
            "\r\nContent-Type: application/pdf\r\n\r\n".encode("utf-8", "surrogatepass")
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Uploader:
    def __init__(self, way, world, api, browser):
        self.way, self.world = way, world
        self.client = api(way.username) if way.api else browser(way.username)
        self.path = way.path(world)

    def post(self, files, **meta):
        body, content_type = multipart(self.way.fields(self.world), files)
        return self.client.generic("POST", self.path, body, content_type, **meta)

    def assert_refused(self, response, label):
        if self.way.api:
            assert_api_refusal(response, label)
        else:
            assert_html_refusal(response, label)


@pytest.fixture
def uploader(request, world, api, browser):
    return Uploader(request.param, world, api, browser)


def _sweep(uploader, family, cases):
    """Each (label, files) in its own savepoint: refused, and nothing stored."""
    for label, files in cases:
        savepoint = transaction.savepoint()
        try:
            snapshot = Snapshot()
            response = uploader.post(files)
            record(f"upload {family}")
            where = f"{uploader.way.name} as {uploader.way.username}, {family}: {label}"
            uploader.assert_refused(response, where)
            snapshot.assert_unchanged(where)
        finally:
            transaction.savepoint_rollback(savepoint)


WAY_PARAMS = [pytest.param(way, id=way.name) for way in WAYS]


@pytest.mark.parametrize("uploader", WAY_PARAMS, indirect=True)
def test_a_file_that_is_not_what_its_name_says_is_refused(uploader):
    _sweep(uploader, "bad-file", [(label, [(name, data)]) for label, name, data in BAD_FILES])


@pytest.mark.parametrize("uploader", WAY_PARAMS, indirect=True)
def test_an_archive_over_the_limits_is_refused(uploader):
    cases = [(label, [(name, build())]) for label, name, build in LARGE_FILES]
    _sweep(uploader, "archive", cases)


@pytest.mark.parametrize("uploader", WAY_PARAMS, indirect=True)
def test_a_file_name_with_nothing_acceptable_left_is_refused(uploader):
    _sweep(
        uploader, "file-name", [(f"named {name!r:.60}", [(name, PDF)]) for name in REFUSED_NAMES]
    )


@pytest.mark.parametrize("uploader", WAY_PARAMS, indirect=True)
def test_too_many_files_or_none_at_all_is_refused(uploader):
    too_many = [(f"part{i}.pdf", PDF) for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    _sweep(uploader, "file-count", [("more files than allowed", too_many), ("no file", [])])


@pytest.mark.parametrize("uploader", WAY_PARAMS, indirect=True)
def test_a_file_over_the_size_limit_is_refused(uploader):
    with override_settings(UPLOAD_MAX_BYTES=4096):
        _sweep(
            uploader,
            "oversize",
            [
                ("a PDF over UPLOAD_MAX_BYTES", [("big.pdf", PDF + b"%" * 8192)]),
                ("a CSV over UPLOAD_MAX_BYTES", [("big.csv", b"a,b\n" * 4096)]),
            ],
        )


def _newest(model):
    return model.objects.order_by("-pk").first()


@pytest.mark.parametrize("uploader", WAY_PARAMS, indirect=True)
def test_a_hostile_name_on_a_good_file_is_cleaned_and_never_a_path(uploader):
    media = Path(settings.MEDIA_ROOT).resolve()
    for name in CLEANED_NAMES:
        savepoint = transaction.savepoint()
        try:
            before, newest = stored_files(), _newest(uploader.way.model)
            response = uploader.post([(name, PDF)])
            record("upload cleaned-name")
            where = f"{uploader.way.name}, named {name!r:.60}"
            assert response.status_code in (201, 302), f"{where}: {explain(response)}"
            if response.status_code == 302:
                assert not error_messages(response), where
            stored = _newest(uploader.way.model)
            assert stored != newest, f"{where}: nothing was stored"
            assert len(stored.filename) <= 255, where
            assert not re.search(r"[/\\\x00-\x1f]", stored.filename), (where, stored.filename)
            assert stored.filename.endswith(".pdf"), (where, stored.filename)
            assert STORAGE_KEY.match(stored.file.name), (where, stored.file.name)
            (new_file,) = stored_files() - before
            assert Path(new_file).resolve().is_relative_to(media), (where, new_file)
            assert Path(new_file).read_bytes() == PDF, where
        finally:
            transaction.savepoint_rollback(savepoint)


def planned_upload_inputs() -> int:
    per_way = len(BAD_FILES) + len(LARGE_FILES) + len(REFUSED_NAMES) + 2 + 2 + len(CLEANED_NAMES)
    return per_way * len(WAYS)
