"""Documents members send and the fund's forms, through the gateway and real storage."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import uuid
import zlib
from types import SimpleNamespace

import pytest

from tests.support import assert_problem, new_member, wait_for_alert

MB = 1024 * 1024


def tiny_pdf(text: str = "Certificat médical") -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.fixture
def member(api, suite, rpc):
    created = new_member(rpc, email=f"d{uuid.uuid4().hex[:8]}@example.mc",
                         email_validated=True)
    created["token"] = api.login(created["identifier"], created["password"])["access_token"]
    return created


@pytest.fixture
def storage(test_env):
    """The suite's object storage, seen from the tests (same endpoint and prefix)."""
    from services.kit.storage import Storage, StorageSettings

    settings = StorageSettings().load({k: v for k, v in test_env.items()
                                       if k.startswith("S3_")})
    return Storage.from_settings(SimpleNamespace(**settings))


def upload(api, token, data: bytes, filename: str = "scan.pdf",
           category: str = "medical_certificate", **fields):
    headers = fields.pop("headers", {})
    return api.post("/api/v1/documents", token, headers=headers,
                    files={"file": (filename, data, "application/octet-stream")},
                    data={"category": category, **fields})


def test_upload_list_get_and_download_the_same_bytes(api, member):
    token = member["token"]
    pdf = tiny_pdf()
    sent = upload(api, token, pdf, "../Certificat médical.PDF")
    assert sent.status_code == 201, sent.text
    doc = sent.json()
    assert sent.headers["Location"] == f"/api/v1/documents/{doc['id']}"
    assert doc["category"] == "medical_certificate" and doc["content_type"] == "application/pdf"
    assert doc["filename"] == "Certificat médical.pdf"  # cleaned: no path, extension
    assert doc["size"] == len(pdf) and doc["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert doc["request_id"] is None and "storage_key" not in doc

    # a PNG named .pdf is a PNG: the content decides, and the name follows
    png = upload(api, token, tiny_png(), "photo.pdf", "identity_document")
    assert png.status_code == 201, png.text
    assert png.json()["content_type"] == "image/png" and png.json()["filename"] == "photo.png"
    jpeg = upload(api, token, JPEG, "rib.jpg", "bank_details")
    assert jpeg.status_code == 201 and jpeg.json()["content_type"] == "image/jpeg"

    page = api.get("/api/v1/documents", token).json()
    assert [d["id"] for d in page["items"]] == [jpeg.json()["id"], png.json()["id"], doc["id"]]
    assert page["next_cursor"] is None
    first = api.get("/api/v1/documents?limit=2", token).json()
    rest = api.get(f"/api/v1/documents?limit=2&cursor={first['next_cursor']}", token).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == \
        [d["id"] for d in page["items"]]
    only = api.get("/api/v1/documents?category=bank_details", token).json()["items"]
    assert [d["id"] for d in only] == [jpeg.json()["id"]]
    assert_problem(api.get("/api/v1/documents?category=selfie", token), 422,
                   "validation_failed")

    assert api.get(f"/api/v1/documents/{doc['id']}", token).json() == doc
    got = api.get(f"/api/v1/documents/{doc['id']}/download", token)
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Length"] == str(len(pdf))
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Certificat medical.pdf"')
    assert "filename*=UTF-8''Certificat%20m%C3%A9dical.pdf" in disposition
    assert "no-store" in got.headers["Cache-Control"]


def test_a_document_received_alert_follows(api, member):
    sent = upload(api, member["token"], tiny_pdf(), "justificatif.pdf", "proof_of_address")
    assert sent.status_code == 201, sent.text
    alert = wait_for_alert(api, member["token"], "document_received")
    assert alert["category"] == "documents"
    assert alert["resource"] == {"type": "document", "id": sent.json()["id"]}
    assert "justificatif.pdf" in alert["body"]


def test_refused_files_leave_nothing_behind(api, member, storage, test_env):
    token = member["token"]
    before = set(storage.list("documents", "members/"))
    quarantined = set(storage.list("quarantine"))
    disguised = [(b"<html><script>alert(1)</script></html>", "certificat.pdf"),
                 (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "facture.pdf"),
                 (b"%PDF", "short.pdf"), (b"GIF89a\x01\x00", "image.png")]
    for data, name in disguised:
        assert_problem(upload(api, token, data, name), 415, "unsupported_document_type")
    limit = int(test_env.get("DOCUMENTS_MAX_UPLOAD_BYTES", 10 * MB))
    too_big = b"%PDF-1.4\n" + b"0" * (limit + 1 - 9)
    body = assert_problem(upload(api, token, too_big, "big.pdf"), 413, "document_too_large")
    assert str(limit) in body["detail"]
    assert_problem(upload(api, token, tiny_pdf(), "a.pdf", "selfie"), 422,
                   "validation_failed")
    assert_problem(upload(api, token, b"", "empty.pdf"), 422, "validation_failed")
    assert_problem(api.post("/api/v1/documents", token, json={"file": "x"}), 415,
                   "unsupported_media_type")

    assert api.get("/api/v1/documents", token).json()["items"] == []
    assert set(storage.list("documents", "members/")) == before
    assert set(storage.list("quarantine")) <= quarantined


def test_another_members_document_is_404(api, rpc, member):
    doc = upload(api, member["token"], tiny_pdf()).json()
    other = new_member(rpc, email=f"o{uuid.uuid4().hex[:8]}@example.mc", email_validated=True)
    token = api.login(other["identifier"], other["password"])["access_token"]
    assert_problem(api.get(f"/api/v1/documents/{doc['id']}", token), 404, "document_not_found")
    assert_problem(api.get(f"/api/v1/documents/{doc['id']}/download", token), 404,
                   "document_not_found")
    assert api.get("/api/v1/documents", token).json()["items"] == []
    assert_problem(api.get(f"/api/v1/documents/{uuid.uuid4()}", member["token"]), 404,
                   "document_not_found")
    assert_problem(api.get("/api/v1/documents"), 401, "authentication_required")


def test_a_missing_object_is_document_unavailable_not_500(api, rpc, member, storage):
    doc = upload(api, member["token"], tiny_pdf()).json()
    grant = rpc.documents.authorize_download(member["member_id"], doc["id"])
    assert grant["bucket"] == "documents" and grant["key"].startswith("members/")
    assert len(grant["key"]) >= len("members/") + 32  # unguessable
    storage.delete(grant["bucket"], grant["key"])
    gone = api.get(f"/api/v1/documents/{doc['id']}/download", member["token"])
    body = assert_problem(gone, 404, "document_unavailable")
    assert grant["key"] not in body["detail"]
    assert api.get(f"/api/v1/documents/{doc['id']}", member["token"]).status_code == 200


def test_a_retried_upload_with_its_idempotency_key_keeps_one_document(api, member):
    token, pdf = member["token"], tiny_pdf()
    key = {"Idempotency-Key": f"upload-{uuid.uuid4()}"}
    first = upload(api, token, pdf, headers=key)
    again = upload(api, token, pdf, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/api/v1/documents", token).json()["items"]) == 1
    other = upload(api, token, tiny_pdf("another"), headers=key)
    assert_problem(other, 422, "idempotency_key_reused")


def test_an_upload_for_a_request_is_attached_to_it(api, rpc, member):
    token = member["token"]
    made = api.post("/api/v1/requests", token, json={"type": "data_correction", "params": {
        "field": "last_name", "new_value": "Rocher-Blanc", "reason": "Marriage"}})
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    sent = upload(api, token, tiny_pdf(), "acte.pdf", "other", request_id=request_id)
    assert sent.status_code == 201, sent.text
    assert sent.json()["request_id"] == request_id
    attachments = api.get(f"/api/v1/requests/{request_id}", token).json()["attachments"]
    assert sent.json()["id"] in [a["document_id"] for a in attachments]
    listed = api.get(f"/api/v1/documents?request_id={request_id}", token).json()["items"]
    assert [d["id"] for d in listed] == [sent.json()["id"]]

    other = new_member(rpc, email=f"r{uuid.uuid4().hex[:8]}@example.mc", email_validated=True)
    stranger = api.login(other["identifier"], other["password"])["access_token"]
    assert_problem(upload(api, stranger, tiny_pdf(), request_id=request_id), 404,
                   "request_not_found")
    assert_problem(upload(api, token, tiny_pdf(), request_id=str(uuid.uuid4())), 404,
                   "request_not_found")
    assert api.get("/api/v1/documents", stranger).json()["items"] == []


def test_seeded_forms_are_listed_and_are_real_pdfs(api, suite):
    forms = api.get("/api/v1/forms")  # no account needed
    assert forms.status_code == 200, forms.text
    items = forms.json()["items"]
    assert items, "the demo data publishes forms"
    for form in items:
        assert form["title_fr"] and form["title_en"] and form["category"] and form["fund"]
        got = api.get(f"/api/v1/forms/{form['id']}/download")
        assert got.status_code == 200, got.text
        assert got.content.startswith(b"%PDF-") and len(got.content) == form["size"]


def test_the_fund_publishes_replaces_and_withdraws_forms(api, rpc):
    form_id = f"test-form-{uuid.uuid4().hex[:8]}"
    meta = {"id": form_id, "title_fr": "Déclaration de changement d'adresse",
            "title_en": "Change of address", "category": "account", "fund": "CAMTI",
            "updated_on": "2026-02-01"}
    published = rpc.documents.publish_form(meta, text="Nom : ______\n\nAdresse : ______")
    assert published["id"] == form_id and published["published"] is True

    listed = api.get("/api/v1/forms?fund=CAMTI").json()["items"]
    form = next(f for f in listed if f["id"] == form_id)
    assert form == {"id": form_id, "title_fr": meta["title_fr"], "title_en": meta["title_en"],
                    "category": "account", "fund": "CAMTI", "updated_on": "2026-02-01",
                    "size": published["size"], "content_type": "application/pdf"}
    assert all(f["fund"] == "CAMTI" for f in listed)

    got = api.get(f"/api/v1/forms/{form_id}/download")
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"] == f'attachment; filename="{form_id}.pdf"'
    assert hashlib.sha256(got.content).hexdigest() == published["sha256"]
    cached = api.get(f"/api/v1/forms/{form_id}/download",
                     headers={"If-None-Match": got.headers["ETag"]})
    assert cached.status_code == 304

    replacement = tiny_pdf("Version 2")
    rpc.documents.publish_form({**meta, "updated_on": "2026-03-01"},
                               pdf_base64=base64.b64encode(replacement).decode())
    assert api.get(f"/api/v1/forms/{form_id}/download").content == replacement

    from services.kit.errors import ServiceError

    with pytest.raises(ServiceError) as err:
        rpc.documents.publish_form(meta, pdf_base64=base64.b64encode(tiny_png()).decode())
    assert err.value.code == "unsupported_document_type"

    rpc.documents.withdraw_form(form_id)
    assert form_id not in [f["id"] for f in api.get("/api/v1/forms").json()["items"]]
    assert_problem(api.get(f"/api/v1/forms/{form_id}/download"), 404, "form_not_found")
    assert_problem(api.get("/api/v1/forms/no-such-form/download"), 404, "form_not_found")
