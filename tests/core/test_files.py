"""Upload inspection: what is accepted, what is refused, and why."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings

from kpo.domain import BusinessRuleViolation
from kpo.files import format_size, inspect_upload, safe_display_name

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
# The start of a Windows executable: "MZ", a DOS header full of NULs, the PE offset.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200

OFFICE_MAIN_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_office(kind: str, **extra: bytes) -> bytes:
    """A minimal OOXML package: content types, relationships and the main part."""
    return make_zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            OFFICE_MAIN_PARTS[kind]: b'<?xml version="1.0"?><root/>',
            **extra,
        }
    )


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    # The browser's content type is deliberately wrong: it must never be trusted.
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def rejection(name: str, content: bytes) -> str:
    with pytest.raises(BusinessRuleViolation) as caught:
        inspect_upload(upload(name, content))
    assert caught.value.field == "file"
    return caught.value.message


# Accepted files


def test_pdf_is_accepted_with_its_facts():
    file = upload("Q3 report.pdf", PDF)

    facts = inspect_upload(file)

    assert facts.filename == "Q3 report.pdf"
    assert facts.extension == "pdf"
    assert facts.content_type == "application/pdf"
    assert facts.size == len(PDF)
    assert facts.sha256 == hashlib.sha256(PDF).hexdigest()


def test_file_is_rewound_for_the_caller_to_save():
    file = upload("report.pdf", PDF)

    inspect_upload(file)

    assert file.tell() == 0
    assert file.read() == PDF


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ],
)
def test_office_documents_are_accepted(kind, content_type):
    facts = inspect_upload(upload(f"deliverable.{kind}", make_office(kind)))

    assert facts.extension == kind
    assert facts.content_type == content_type


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("prices.csv", b"ticker,price\nACME,12.50\n", "text/csv"),
        ("notes.txt", "Résumé of the call — next steps\n".encode(), "text/plain"),
        ("excel-export.csv", b"\xef\xbb\xbfticker,price\nACME,12.50\n", "text/csv"),
    ],
    ids=["csv", "txt", "csv-with-bom"],
)
def test_utf8_text_is_accepted(name, content, content_type):
    assert inspect_upload(upload(name, content)).content_type == content_type


def test_csv_starting_like_a_binary_signature_is_still_text():
    # "FWS" is also the start of a Flash file; text is recognised before such guesses.
    facts = inspect_upload(upload("codes.csv", b"FWS,Fixed wing services\n"))

    assert facts.content_type == "text/csv"


def test_zip_archive_is_accepted():
    facts = inspect_upload(upload("inputs.zip", make_zip({"a.csv": b"x,y\n", "b.txt": b"hi"})))

    assert facts.extension == "zip"
    assert facts.content_type == "application/zip"


def test_office_document_named_zip_is_accepted_as_a_zip():
    facts = inspect_upload(upload("model.zip", make_office("xlsx")))

    assert facts.content_type == "application/zip"


def test_extension_is_matched_case_insensitively():
    facts = inspect_upload(upload("REPORT.PDF", PDF))

    assert facts.filename == "REPORT.PDF"
    assert facts.extension == "pdf"


def test_large_file_is_hashed_in_full():
    content = b"row,value\n" + b"1,2\n" * 100_000  # several chunks

    facts = inspect_upload(upload("big.csv", content))

    assert facts.size == len(content)
    assert facts.sha256 == hashlib.sha256(content).hexdigest()


def test_upload_spooled_to_disk_is_inspected():
    file = TemporaryUploadedFile("report.pdf", "application/pdf", len(PDF), None)
    file.write(PDF)
    try:
        facts = inspect_upload(file)
        assert facts.sha256 == hashlib.sha256(PDF).hexdigest()
        assert file.tell() == 0
    finally:
        file.close()


# Refused types and mismatches


def test_disallowed_extension_is_rejected():
    assert rejection("setup.exe", EXE) == (
        "File type not allowed: .exe. Accepted: PDF, DOCX, XLSX, PPTX, CSV, TXT, ZIP."
    )


def test_name_without_extension_is_rejected():
    assert rejection("README", b"hello").startswith(
        "File type not allowed: a name without an extension."
    )


def test_pdf_named_docx_is_rejected():
    assert rejection("contract.docx", PDF) == (
        "The file's content is a PDF but its name ends in .docx."
    )


def test_pdf_named_csv_is_rejected():
    assert rejection("data.csv", PDF) == "The file's content is a PDF but its name ends in .csv."


def test_plain_zip_named_docx_is_rejected():
    assert rejection("memo.docx", make_zip({"memo.txt": b"hi"})) == (
        "The file's content is a ZIP archive but its name ends in .docx."
    )


def test_workbook_named_docx_is_rejected():
    assert rejection("memo.docx", make_office("xlsx")) == (
        "The file's content is an Excel workbook (XLSX) but its name ends in .docx."
    )


def test_zip_named_pdf_is_rejected():
    assert rejection("report.pdf", make_zip({"a.txt": b"hi"})) == (
        "The file's content is a ZIP archive but its name ends in .pdf."
    )


def test_text_named_pdf_is_rejected():
    assert rejection("report.pdf", b"Just some notes\n") == (
        "The file's content is plain text but its name ends in .pdf."
    )


def test_executable_named_pdf_is_rejected():
    message = rejection("report.pdf", EXE)

    assert message.startswith("The file's content is of type EXE, which is not accepted.")


def test_unrecognised_binary_named_pdf_is_rejected():
    assert rejection("report.pdf", b"\x00\x01\x02garbage\xff") == (
        "The file's name ends in .pdf but its content is not a PDF."
    )


def test_binary_csv_is_rejected():
    assert rejection("data.csv", b"\x00\x01\x02\x03binary") == (
        "The file's name ends in .csv but its content is binary (it contains NUL bytes), not text."
    )


def test_text_with_a_nul_byte_past_the_first_look_is_rejected():
    content = b"a,b\n" * 10_000 + b"\x00" + b"a,b\n"

    assert "contains NUL bytes" in rejection("data.txt", content)


def test_text_that_is_not_utf8_is_rejected():
    message = rejection("clients.csv", "name\nMüller\n".encode("latin-1"))

    assert message == (
        "The file's name ends in .csv but its content is not UTF-8 text. "
        "Save it with UTF-8 encoding and upload it again."
    )


def test_text_ending_in_a_cut_off_character_is_rejected():
    content = b"a,b\n" * 10_000 + "é".encode()[:1]

    assert "not UTF-8 text" in rejection("data.csv", content)


# Size


def test_empty_file_is_rejected():
    assert rejection("empty.pdf", b"") == "The file is empty."


@override_settings(UPLOAD_MAX_BYTES=1024)
def test_file_over_the_size_limit_is_rejected():
    assert rejection("big.pdf", PDF + b"0" * 1024) == "File is larger than the 1 KB limit."


@override_settings(UPLOAD_MAX_BYTES=1024)
def test_file_longer_than_its_declared_size_is_rejected_while_reading():
    file = upload("big.pdf", PDF + b"0" * 1024)
    file.size = 10  # what a client claimed, not what arrived

    with pytest.raises(BusinessRuleViolation, match="larger than the 1 KB limit"):
        inspect_upload(file)


def test_size_limit_reads_as_people_say_it():
    assert format_size(50 * 1024 * 1024) == "50 MB"
    assert format_size(1536 * 1024) == "1.5 MB"
    assert format_size(500) == "500 bytes"


# Archives


@override_settings(UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES=10_000)
def test_zip_that_expands_beyond_the_limit_is_rejected():
    bomb = make_zip({"zeros.bin": b"\x00" * 100_000})
    assert len(bomb) < 10_000  # small on the wire, large when unpacked

    assert rejection("inputs.zip", bomb) == (
        "The ZIP archive expands to more than 9.8 KB when unpacked."
    )


@override_settings(UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES=10_000)
def test_office_document_that_expands_beyond_the_limit_is_rejected():
    document = make_office("docx", **{"word/media/padding.bin": b"\x00" * 100_000})

    assert "expands to more than" in rejection("report.docx", document)


@override_settings(UPLOAD_ZIP_MAX_ENTRIES=5)
def test_zip_with_too_many_entries_is_rejected():
    archive = make_zip({f"file{i}.txt": b"x" for i in range(6)})

    assert rejection("inputs.zip", archive) == "The ZIP archive has more than 5 entries."


@override_settings(UPLOAD_ZIP_MAX_ENTRIES=5)
def test_zip_with_as_many_entries_as_allowed_is_accepted():
    archive = make_zip({f"file{i}.txt": b"x" for i in range(5)})

    assert inspect_upload(upload("inputs.zip", archive)).extension == "zip"


@override_settings(UPLOAD_ZIP_MAX_ENTRIES=5)
def test_zip_understating_its_entry_count_is_still_rejected():
    archive = bytearray(make_zip({f"file{i}.txt": b"x" for i in range(6)}))
    end = archive.rfind(b"PK\x05\x06")
    archive[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2  # claims one entry

    assert rejection("inputs.zip", bytes(archive)) == "The ZIP archive has more than 5 entries."


@override_settings(UPLOAD_ZIP_MAX_ENTRIES=2)
def test_zip_with_an_oversized_directory_is_rejected():
    archive = make_zip({"a" * 3000 + ".txt": b"x"})

    assert rejection("inputs.zip", archive) == "The ZIP archive has more than 2 entries."


@override_settings(UPLOAD_ZIP_MAX_ENTRIES=3)
@pytest.mark.parametrize(("entries", "accepted"), [(2, True), (5, False)])
def test_zip64_entry_count_is_read_from_the_zip64_record(monkeypatch, entries, accepted):
    # Make zipfile write ZIP64 end records for a handful of entries, then saturate the
    # classic record's counts as a real ZIP64 archive with >65535 entries would.
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    archive = bytearray(make_zip({f"file{i}.txt": b"x" for i in range(entries)}))
    monkeypatch.undo()
    end = archive.rfind(b"PK\x05\x06")
    archive[end + 8 : end + 12] = b"\xff\xff\xff\xff"

    if accepted:
        assert inspect_upload(upload("inputs.zip", bytes(archive))).extension == "zip"
    else:
        assert rejection("inputs.zip", bytes(archive)) == "The ZIP archive has more than 3 entries."


def test_corrupt_zip_is_rejected():
    assert rejection("inputs.zip", b"PK\x03\x04" + b"\x13\x37" * 50) == (
        "The file is damaged: its ZIP structure cannot be read."
    )


def test_truncated_office_document_is_rejected():
    document = make_office("docx")

    assert "damaged" in rejection("report.docx", document[: len(document) // 2])


def test_zip_with_a_broken_central_directory_is_rejected():
    archive = bytearray(make_zip({"a.txt": b"hello"}))
    directory = archive.find(b"PK\x01\x02")
    archive[directory : directory + 4] = b"XXXX"

    assert "damaged" in rejection("inputs.zip", bytes(archive))


# File names


def test_path_traversal_name_keeps_only_the_base_name():
    facts = inspect_upload(upload("../../etc/passwd.pdf", PDF))

    assert facts.filename == "passwd.pdf"


def test_windows_path_keeps_only_the_base_name():
    facts = inspect_upload(upload("..\\..\\Windows\\report.pdf", PDF))

    assert facts.filename == "report.pdf"


def test_nul_byte_in_name_is_removed():
    facts = inspect_upload(upload("report\x00.pdf", PDF))

    assert facts.filename == "report.pdf"


def test_nul_byte_cannot_hide_the_real_extension():
    assert rejection("report.pdf\x00.exe", EXE).startswith("File type not allowed: .exe.")


def test_control_and_direction_override_characters_are_removed():
    # U+202E would display "invoice<RLO>fdp.exe" as "invoiceexe.pdf".
    assert safe_display_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert safe_display_name("line\r\nbreak\t.txt") == "linebreak.txt"


def test_long_name_is_capped_keeping_its_extension():
    name = safe_display_name("a" * 300 + ".pdf")

    assert len(name) == 255
    assert name.endswith("a.pdf")


@pytest.mark.parametrize("name", ["", None, "../", "..", "\x00\x01", "dir\\"])
def test_empty_name_falls_back_to_upload(name):
    assert safe_display_name(name) == "upload"
