"""Recognising and naming files, the forms' checks, and the gateway's upload parsing."""

from __future__ import annotations

import base64
import io

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.problems import ApiError
from gateway.routes.documents import content_disposition, read_upload
from services.documents.files.content import JPEG, PDF, PNG, clean_filename, sniff
from services.documents.files.forms import decode_form_pdf, render_form_pdf, validate_form
from services.documents.files.uploads import new_storage_key
from services.kit.errors import ServiceError, ValidationFailed

PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


# -- sniff ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("head", "expected"), [
    (PDF_BYTES, PDF), (b"%PDF-", PDF), (PNG_BYTES, PNG), (JPEG_BYTES, JPEG),
    (b"\xff\xd8\xff\xdb", JPEG), (bytearray(b"%PDF-1.4"), PDF), (memoryview(PNG_BYTES), PNG),
])
def test_sniff_recognises_pdf_jpeg_png_by_content(head, expected):
    assert sniff(head) == expected


@pytest.mark.parametrize("head", [
    b"", b"%PDF", b"%pdf-1.4", b" %PDF-1.4", b"MZ\x90\x00\x03", b"<html><body>",
    b"<!DOCTYPE html>", b"GIF89a", b"PK\x03\x04", b"\x89PNG\r\n", b"\xff\xd8",
    b"\x00%PDF-1.4", "%PDF-1.4", None, 42,
])
def test_sniff_refuses_everything_else(head):
    assert sniff(head) is None


# -- clean_filename ---------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("certificat.pdf", "certificat.pdf"),
    ("Relevé d'identité bancaire.PDF", "Relevé d_identité bancaire.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\marie\\scan 1.jpg", "scan 1.jpg"),
    ("  .hidden.png", "hidden.png"),
    ("...", "document"),
    ("", "document"),
    (None, "document"),
    (b"bytes.pdf", "document"),
    ("a\u202egnp.pdf", "agnp.pdf"),  # a right-to-left override cannot disguise the name
    ("line\r\nbreak.pdf", "line break.pdf"),
    ("zero\u200bwidth\x00.pdf", "zerowidth.pdf"),
    ('quote"semi;colon<>|*?.pdf', "quote_semi_colon.pdf"),
    ("tab\tand\u00a0nbsp.pdf", "tab and nbsp.pdf"),
    ("CON.pdf", "document_CON.pdf"),
    ("lpt1", "document_lpt1"),
    ("e\u0301te\u0301.png", "été.png"),  # NFC
])
def test_clean_filename(raw, expected):
    assert clean_filename(raw) == expected


@pytest.mark.parametrize(("raw", "content_type", "expected"), [
    ("photo.pdf", PNG, "photo.png"),  # the content decides
    ("photo.JPG", JPEG, "photo.jpg"),
    ("photo.jpeg", JPEG, "photo.jpeg"),
    ("scan", PDF, "scan.pdf"),
    ("scan.2024", PDF, "scan.2024.pdf"),
    ("report.exe", PDF, "report.exe.pdf"),
    ("", PNG, "document.png"),
])
def test_clean_filename_matches_the_extension_to_the_content(raw, content_type, expected):
    assert clean_filename(raw, content_type) == expected


def test_clean_filename_is_bounded_and_keeps_its_extension():
    name = clean_filename("x" * 500 + ".pdf", PDF)
    assert len(name) == 128 and name.endswith("x.pdf")
    assert len(clean_filename("é" * 400)) == 128


def test_clean_filename_is_stable():
    for raw in ("../a b/c.PDF", "  ..x..pdf", "Ünïcödé (1).png", "a" * 300):
        once = clean_filename(raw, PDF)
        assert clean_filename(once, PDF) == once


def test_storage_keys_are_unguessable():
    keys = {new_storage_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(k.startswith("members/") and len(k) == len("members/") + 32 for k in keys)


# -- forms ------------------------------------------------------------------------------------

FORM = {"id": "demande-remboursement", "title_fr": "Demande de remboursement",
        "title_en": "Refund request", "category": "health", "fund": "CCSS",
        "updated_on": "2026-01-15"}


def test_validate_form():
    form = validate_form(FORM)
    assert form["updated_on"].isoformat() == "2026-01-15"
    with pytest.raises(ValidationFailed) as err:
        validate_form({**FORM, "id": "Bad Id", "fund": "ACME", "title_en": "", "extra": 1})
    assert {e["field"] for e in err.value.errors} == {"id", "fund", "title_en", "extra"}


def test_form_pdf_rendered_from_text_is_a_real_pdf_and_deterministic():
    form = validate_form(FORM)
    pdf = render_form_pdf(form, "Nom : ______\n\nPrénom : ______ (Łódź, 東京)")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert render_form_pdf(form, "Nom : ______\n\nPrénom : ______ (Łódź, 東京)") == pdf


def test_form_pdf_from_base64():
    assert decode_form_pdf(base64.b64encode(PDF_BYTES).decode()) == PDF_BYTES
    with pytest.raises(ServiceError) as err:
        decode_form_pdf(base64.b64encode(PNG_BYTES).decode())
    assert (err.value.status, err.value.code) == (415, "unsupported_document_type")
    with pytest.raises(ValidationFailed):
        decode_form_pdf("not base64!")
    with pytest.raises(ServiceError) as err:
        decode_form_pdf("A" * (8 * 1024 * 1024))
    assert (err.value.status, err.value.code) == (413, "document_too_large")


# -- the gateway's side ------------------------------------------------------------------------

def multipart(data: dict, **headers: str) -> Request:
    builder = EnvironBuilder(method="POST", path="/api/v1/documents", data=data,
                             content_type="multipart/form-data", headers=headers)
    return Request(builder.get_environ())


def test_read_upload_measures_and_hashes_the_file_part():
    import hashlib

    content = PDF_BYTES + b"x" * 700_000  # past werkzeug's in-memory size: spooled
    upload = read_upload(multipart({"file": (io.BytesIO(content), "../mon scan.pdf"),
                                    "category": "proof_of_address"}), 1024 * 1024)
    assert upload.size == len(content) and upload.category == "proof_of_address"
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    assert upload.filename == "../mon scan.pdf" and upload.request_id is None
    assert upload.stream.read() == content


def test_read_upload_refuses_what_is_too_large_before_storing_anything():
    with pytest.raises(ApiError) as err:
        read_upload(multipart({"file": (io.BytesIO(b"%PDF-" + b"x" * 3000), "a.pdf"),
                               "category": "other"}), 2048)
    assert (err.value.status, err.value.code) == (413, "document_too_large")
    big = multipart({"file": (io.BytesIO(b"x" * 200_000), "a.pdf"), "category": "other"})
    with pytest.raises(ApiError) as err:  # refused on Content-Length, unread
        read_upload(big, 2048)
    assert (err.value.status, err.value.code) == (413, "document_too_large")


@pytest.mark.parametrize(("data", "field"), [
    ({"category": "other"}, "file"),
    ({"file": (io.BytesIO(PDF_BYTES), "a.pdf"), "category": "selfie"}, "category"),
    ({"file": (io.BytesIO(PDF_BYTES), "a.pdf")}, "category"),
    ({"file": (io.BytesIO(PDF_BYTES), "a.pdf"), "category": "other", "request_id": "x"},
     "request_id"),
    ({"file": (io.BytesIO(PDF_BYTES), "a.pdf"), "category": "other", "owner": "me"},
     "owner"),
    ({"file": (io.BytesIO(b""), "a.pdf"), "category": "other"}, "file"),
])
def test_read_upload_field_problems(data, field):
    with pytest.raises(ApiError) as err:
        read_upload(multipart(data), 1024 * 1024)
    assert (err.value.status, err.value.code) == (422, "validation_failed")
    assert err.value.errors[0]["field"] == field


def test_read_upload_wants_multipart():
    request = Request(EnvironBuilder(method="POST", json={"file": "x"}).get_environ())
    with pytest.raises(ApiError) as err:
        read_upload(request, 1024)
    assert (err.value.status, err.value.code) == (415, "unsupported_media_type")


def test_content_disposition():
    assert content_disposition("scan.pdf") == 'attachment; filename="scan.pdf"'
    value = content_disposition("Relevé été.pdf")
    assert value.startswith('attachment; filename="Releve ete.pdf"; ')
    assert value.endswith("filename*=UTF-8''Relev%C3%A9%20%C3%A9t%C3%A9.pdf")
    assert content_disposition("東京.png").startswith('attachment; filename=".png"')
