"""Files: the documents members send, and the fund's forms to download.

File bytes never travel through RabbitMQ. The gateway streams an upload to a random
key in the `quarantine` bucket and passes only that key; `accept_upload` checks the
object (type recognised by its content, size, checksum, the member's quota), copies
it under an unguessable key in `documents` and deletes the quarantine object, whatever
the outcome. Downloads are authorised here (`authorize_download`) and streamed by the
gateway from storage. An object missing from storage is `404 document_unavailable`.

Forms are PDF files in the `forms` bucket, published and withdrawn by the fund.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import io
import json
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from botocore.exceptions import ClientError
from sqlalchemy.orm import Session as DbSession

from services.contracts.members import FUNDS
from services.contracts.requests import DOCUMENT_CATEGORIES
from services.documents.file_models import Document, Form
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ServiceError, ValidationFailed
from services.kit.logging import get_logger
from services.kit.storage import ObjectMissing, Storage

log = get_logger(__name__)

MONACO = ZoneInfo("Europe/Monaco")
QUARANTINE, DOCUMENTS, FORMS = "quarantine", "documents", "forms"
BUCKETS = (QUARANTINE, DOCUMENTS, FORMS)

CATEGORIES = DOCUMENT_CATEGORIES  # public vocabulary (services.contracts.requests)

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
_SIGNATURES = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
SNIFF_BYTES = 8
EXTENSIONS = {PDF: ("pdf",), JPEG: ("jpg", "jpeg"), PNG: ("png",)}
_KNOWN_EXTENSIONS = {ext for exts in EXTENSIONS.values() for ext in exts}

MAX_FORM_BYTES = 5 * 1024 * 1024
MAX_FORM_TEXT = 20_000
FILENAME_MAX = 128
DEFAULT_PAGE, MAX_PAGE = 50, 200

# the gateway writes uploads as f"uploads/{secrets.token_urlsafe(24)}"
QUARANTINE_KEY = re.compile(r"^uploads/[A-Za-z0-9_-]{32}$")
FORM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
FORM_CATEGORY = re.compile(r"^[a-z][a-z_]{1,39}$")
_OBJECT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,299}$")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)


# -- recognising and naming files -----------------------------------------------------------

def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes: PDF, JPEG or PNG, else None.

    Only the content counts, never the name or what the client declared.
    """
    if not isinstance(head, bytes | bytearray | memoryview):
        return None
    head = bytes(head[:SNIFF_BYTES])
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def clean_filename(name: Any, content_type: str | None = None) -> str:
    """A name safe to store and to send back in Content-Disposition.

    The last path component only; control and formatting characters (including
    bidirectional overrides) dropped; anything but letters, digits, space and
    `._-()` replaced by `_`; no leading dot; at most 128 characters. Given the
    recognised content type, the extension is made to match it ("photo.pdf" that is a
    PNG becomes "photo.png"; "scan.2024" becomes "scan.2024.pdf").
    """
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or not unicodedata.category(ch).startswith("C"))
    text = "".join(ch if ch.isalnum() or ch in " ._-()" else "_" for ch in text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"_{2,}", "_", text)
    text = re.sub(r"\.{2,}", ".", text).strip(" ._-")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or not ext.isascii() or not ext.isalnum() or len(ext) > 5:
        stem, ext = text, ""
    stem, ext = stem.strip(" ._-"), ext.lower()
    if content_type in EXTENSIONS and ext not in EXTENSIONS[content_type]:
        if ext and ext not in _KNOWN_EXTENSIONS:
            stem = f"{stem}.{ext}" if stem else ext
        ext = EXTENSIONS[content_type][0]
    if not stem or _WINDOWS_RESERVED.match(stem):
        stem = f"document{'_' + stem if stem else ''}"
    room = FILENAME_MAX - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" ._-") or "document"
    return f"{stem}.{ext}" if ext else stem


def new_storage_key() -> str:
    """An unguessable key for a member's document (192 random bits)."""
    return f"members/{secrets.token_urlsafe(24)}"


def new_form_key(form_id: str) -> str:
    return f"forms/{form_id}/{secrets.token_urlsafe(12)}.pdf"


# -- problems ------------------------------------------------------------------------------

def unsupported_type() -> ServiceError:
    return ServiceError("Only PDF, JPEG and PNG files are accepted (recognised by their "
                        "content, not their name).", code="unsupported_document_type",
                        status=415)


def too_large(max_bytes: int) -> ServiceError:
    return ServiceError(f"The file may not exceed {max_bytes} bytes.",
                        code="document_too_large", status=413,
                        extra={"max_bytes": max_bytes})


def upload_not_found() -> NotFound:
    return NotFound("The uploaded file was not found; send it again.",
                    code="upload_not_found")


def document_not_found() -> NotFound:
    return NotFound("No such document.", code="document_not_found")


def unavailable() -> NotFound:
    return NotFound("This file is not available right now; try again later.",
                    code="document_unavailable")


def form_not_found() -> NotFound:
    return NotFound("No such form.", code="form_not_found")


# -- reading an object ------------------------------------------------------------------------

@dataclass(frozen=True)
class Inspected:
    content_type: str | None
    sha256: str
    size: int


def inspect_object(storage: Storage, bucket: str, key: str, max_bytes: int) -> Inspected:
    """Stream the object once: its SHA-256, its size and its type by content.

    Stops (413) as soon as it grows past `max_bytes`; raises ObjectMissing if absent.
    """
    digest = hashlib.sha256()
    head = b""
    size = 0
    with contextlib.closing(storage.open(bucket, key)) as chunks:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            if len(head) < SNIFF_BYTES:
                head += chunk[:SNIFF_BYTES - len(head)]
            digest.update(chunk)
    return Inspected(sniff(head), digest.hexdigest(), size)


def _copy_across(storage: Storage, src_bucket: str, src_key: str, dst_bucket: str,
                 dst_key: str, content_type: str, metadata: dict[str, str]) -> None:
    """Server-side copy between two buckets, with the recognised content type."""
    try:
        storage.client.copy_object(
            Bucket=storage.bucket(dst_bucket), Key=dst_key,
            CopySource={"Bucket": storage.bucket(src_bucket), "Key": src_key},
            MetadataDirective="REPLACE", ContentType=content_type, Metadata=metadata,
            ServerSideEncryption="AES256")
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404",
                                                                   "NotFound"):
            raise upload_not_found() from None
        raise


def discard_object(storage: Storage, bucket: str, key: str) -> None:
    try:
        storage.delete(bucket, key)
    except Exception:  # the quarantine sweeper removes it later
        log.warning("object_delete_failed", bucket=bucket, exc_info=True)


# -- members' documents -------------------------------------------------------------------------

def _uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def document_view(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "category": doc.category, "filename": doc.filename,
            "content_type": doc.content_type, "size": doc.size, "sha256": doc.sha256,
            "request_id": doc.request_id, "created_at": doc.created_at.isoformat()}


def used_bytes(session: DbSession, member_id: str) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Document.size), 0))
                              .where(Document.member_id == member_id)) or 0)


def accept_upload(tx: UnitOfWork, storage: Storage, member_id: str, quarantine_key: str,
                  category: Any, filename: Any, request_id: Any, max_bytes: int,
                  quota_bytes: int, *, expected_sha256: str | None = None,
                  final_key: str | None = None) -> dict[str, Any]:
    """Check the quarantined upload, keep it as the member's document, or refuse it.

    The quarantine object is deleted in every case. Refusals: 422 `validation_failed`
    (category, request id), 404 `request_not_found` (not the member's request), 404
    `upload_not_found`, 413 `document_too_large`, 415 `unsupported_document_type`,
    422 `checksum_mismatch`, 409 `quota_exceeded`. On success the row is written and
    `documents.document_received` emitted in `tx` (and the document added to the
    request's attachments when `request_id` is given); the caller deletes `final_key` from
    the documents bucket should the transaction then fail.
    """
    if not isinstance(quarantine_key, str) or not QUARANTINE_KEY.match(quarantine_key):
        raise upload_not_found()  # not one of the gateway's keys: touch nothing
    try:
        return _accept(tx, storage, member_id, quarantine_key, category, filename, request_id,
                       max_bytes, quota_bytes, expected_sha256, final_key or new_storage_key())
    finally:
        discard_object(storage, QUARANTINE, quarantine_key)


def _accept(tx: UnitOfWork, storage: Storage, member_id: str, quarantine_key: str,
            category: Any, filename: Any, request_id: Any, max_bytes: int, quota_bytes: int,
            expected_sha256: str | None, final_key: str) -> dict[str, Any]:
    from services.documents import registry

    errors = []
    if category not in CATEGORIES:
        errors.append(FieldError("category", "not_allowed",
                                 "Must be one of: " + ", ".join(CATEGORIES) + "."))
    request = None
    if request_id is not None:
        request = _uuid(request_id)
        if request is None:
            errors.append(FieldError("request_id", "invalid", "Not a valid UUID."))
    if errors:
        raise ValidationFailed.of(errors)
    if request is not None:  # 404 request_not_found unless it is the member's
        registry.get_own(tx.session, str(member_id), request, lock=True)

    head = storage.head(QUARANTINE, quarantine_key)
    if head is None or head["metadata"].get("member-id") != str(member_id):
        raise upload_not_found()
    if head["size"] > max_bytes:
        raise too_large(max_bytes)
    if head["size"] == 0:
        raise ValidationFailed.of([FieldError("file", "empty", "The file is empty.")])
    try:
        found = inspect_object(storage, QUARANTINE, quarantine_key, max_bytes)
    except ObjectMissing:
        raise upload_not_found() from None
    if found.content_type is None:
        raise unsupported_type()
    if expected_sha256 is not None and found.sha256 != str(expected_sha256).lower():
        raise ServiceError("The file changed on its way; send it again.",
                           code="checksum_mismatch", status=422)

    # one upload at a time per member past this point, so two cannot both fit the quota
    tx.session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                       {"k": f"documents.quota:{member_id}"})
    used = used_bytes(tx.session, member_id)
    if used + found.size > quota_bytes:
        raise ServiceError("Your documents would exceed your storage quota; delete some "
                           "or contact the fund.", code="quota_exceeded", status=409,
                           extra={"quota_bytes": quota_bytes, "used_bytes": used})

    _copy_across(storage, QUARANTINE, quarantine_key, DOCUMENTS, final_key,
                 found.content_type, {"member-id": str(member_id), "sha256": found.sha256})
    doc = Document(id=str(uuid.uuid4()), member_id=str(member_id), category=category,
                   filename=clean_filename(filename, found.content_type),
                   content_type=found.content_type, size=found.size, sha256=found.sha256,
                   storage_key=final_key, request_id=request,
                   created_at=dt.datetime.now(dt.UTC))
    tx.session.add(doc)
    if request is not None:
        registry.attach(tx.session, str(member_id), request, doc.id, doc.category)
    tx.emit("documents.document_received", member_id=str(member_id),
            data={"document_id": doc.id, "category": doc.category,
                  "filename": doc.filename, "request_id": doc.request_id})
    tx.audit("document.received", member_id=str(member_id),
             details={"document_id": doc.id, "category": doc.category, "size": doc.size,
                      "content_type": doc.content_type, "request_id": doc.request_id})
    return document_view(doc)


def _owned(session: DbSession, member_id: str, document_id: Any) -> Document:
    wanted = _uuid(document_id)
    doc = session.get(Document, wanted) if wanted else None
    if doc is None or str(doc.member_id) != str(member_id):
        raise document_not_found()  # another member's document does not exist for you
    return doc


def get_document(session: DbSession, member_id: str, document_id: Any) -> dict[str, Any]:
    return document_view(_owned(session, member_id, document_id))


def owned_documents(session: DbSession, member_id: str, ids: Any) -> list[dict[str, Any]]:
    """The member's documents with these ids (say, a request's attachments); 404
    `document_not_found` if one is not theirs."""
    if not isinstance(ids, list | tuple):
        raise ValidationFailed.of([FieldError("attachments", "invalid", "Expected a list.")])
    return [document_view(_owned(session, member_id, i)) for i in ids]


def encode_cursor(created_at: dt.datetime, item_id: str) -> str:
    """The keyset cursor of a (created_at, id) listing: documents and the request registry."""
    raw = json.dumps([created_at.isoformat(), item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: Any) -> tuple[dt.datetime, str]:
    """encode_cursor's (created_at, id) back; anything else is 422 on `cursor`."""
    try:
        if not isinstance(cursor, str):
            raise TypeError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, item_id = json.loads(raw)
        parsed = dt.datetime.fromisoformat(at)
        wanted = _uuid(item_id) if isinstance(item_id, str) else None
        if parsed.tzinfo is None or wanted is None:
            raise ValueError
        return parsed, wanted
    except (ValueError, TypeError, binascii.Error, RecursionError):  # nested "[[[..." too
        raise ValidationFailed.of([FieldError("cursor", "invalid",
                                              "Send back the cursor you were given.")]) from None


def _query(query: Any) -> dict[str, Any]:
    """An RPC caller's filters: a missing query is none, anything but an object is 422."""
    if query is None:
        return {}
    if not isinstance(query, dict):
        raise ValidationFailed.of([FieldError("query", "invalid", "Expected an object.")])
    return dict(query)


def list_documents(session: DbSession, member_id: str,
                   query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The member's documents, newest first: `{items, next_cursor}`.

    `query`: `limit` (1-200, default 50), `cursor`, `category`, `request_id`.
    """
    query = _query(query)
    errors = []
    try:
        limit = int(query.get("limit") or DEFAULT_PAGE)
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("limit", "invalid", f"1 to {MAX_PAGE}."))
        limit = DEFAULT_PAGE
    category, request_id = query.get("category"), query.get("request_id")
    if category is not None and category not in CATEGORIES:
        errors.append(FieldError("category", "not_allowed", ", ".join(CATEGORIES)))
    if request_id is not None and _uuid(request_id) is None:
        errors.append(FieldError("request_id", "invalid", "Not a valid UUID."))
    if errors:
        raise ValidationFailed.of(errors)
    stmt = sa.select(Document).where(Document.member_id == member_id)
    if category is not None:
        stmt = stmt.where(Document.category == category)
    if request_id is not None:
        stmt = stmt.where(Document.request_id == _uuid(request_id))
    if query.get("cursor"):
        at, doc_id = decode_cursor(str(query["cursor"]))
        stmt = stmt.where(sa.tuple_(Document.created_at, Document.id) < (at, doc_id))
    rows = list(session.scalars(stmt.order_by(Document.created_at.desc(), Document.id.desc())
                                .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [document_view(d) for d in rows],
            "next_cursor": encode_cursor(rows[-1].created_at, rows[-1].id) if more else None}


def authorize_download(session: DbSession, storage: Storage, member_id: str,
                       document_id: Any) -> dict[str, Any]:
    """What the gateway needs to stream the member's own document from storage."""
    doc = _owned(session, member_id, document_id)
    if storage.head(DOCUMENTS, doc.storage_key) is None:
        log.warning("document_object_missing", document_id=doc.id)
        raise unavailable()
    return {"bucket": DOCUMENTS, "key": doc.storage_key, "content_type": doc.content_type,
            "filename": doc.filename, "size": doc.size, "sha256": doc.sha256}


def export_member_files(session: DbSession, member_id: str) -> dict[str, Any]:
    """For `export_member_data`: what the member sent (metadata; the files are theirs
    to download)."""
    docs = session.scalars(sa.select(Document).where(Document.member_id == member_id)
                           .order_by(Document.created_at))
    return {"documents": [document_view(d) for d in docs]}


def erase_member_files(session: DbSession, storage: Storage, member_id: str) -> int:
    """The member is erased: their documents' rows and objects go."""
    keys = list(session.scalars(sa.select(Document.storage_key)
                                .where(Document.member_id == member_id)))
    session.execute(sa.delete(Document).where(Document.member_id == member_id))
    for key in keys:
        discard_object(storage, DOCUMENTS, key)
    return len(keys)


def sweep_quarantine(storage: Storage, max_age: dt.timedelta) -> int:
    """Delete quarantine objects older than `max_age` (an upload whose gateway died
    between storing it and calling documents)."""
    cutoff = dt.datetime.now(dt.UTC) - max_age
    swept = 0
    pages = storage.client.get_paginator("list_objects_v2").paginate(
        Bucket=storage.bucket(QUARANTINE), Prefix="uploads/")
    for page in pages:
        for item in page.get("Contents", []):
            if item["LastModified"] < cutoff:
                discard_object(storage, QUARANTINE, item["Key"])
                swept += 1
    return swept


# -- forms -------------------------------------------------------------------------------------

def form_view(form: Form) -> dict[str, Any]:
    return {"id": form.id, "title_fr": form.title_fr, "title_en": form.title_en,
            "category": form.category, "fund": form.fund,
            "updated_on": form.updated_on.isoformat(), "size": form.size,
            "content_type": form.content_type, "sha256": form.sha256,
            "published": form.published}


def validate_form(form: Any) -> dict[str, Any]:
    """The fund's metadata for a form: id (slug), titles in French and English,
    category, fund, updated_on (default: today in Monaco)."""
    if not isinstance(form, dict):
        raise ValidationFailed.of([FieldError("form", "invalid", "Expected an object.")])
    errors = []
    out: dict[str, Any] = {}
    known = {"id", "title_fr", "title_en", "category", "fund", "updated_on"}
    errors += [FieldError(k, "unknown_field", "Unknown field.") for k in form if k not in known]
    if not isinstance(form.get("id"), str) or not FORM_ID.match(form["id"]):
        errors.append(FieldError("id", "invalid", "A slug: a-z, 0-9 and -, 2 to 64 long."))
    out["id"] = form.get("id")
    for name in ("title_fr", "title_en"):
        value = form.get(name)
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
            errors.append(FieldError(name, "length", "1 to 200 characters."))
        else:
            out[name] = value.strip()
    if not isinstance(form.get("category"), str) or not FORM_CATEGORY.match(form["category"]):
        errors.append(FieldError("category", "invalid", "a-z and _, 2 to 40 long."))
    out["category"] = form.get("category")
    if form.get("fund") not in FUNDS:
        errors.append(FieldError("fund", "not_allowed", ", ".join(FUNDS)))
    out["fund"] = form.get("fund")
    updated = form.get("updated_on")
    if updated is None:
        out["updated_on"] = dt.datetime.now(MONACO).date()
    else:
        try:
            out["updated_on"] = dt.date.fromisoformat(str(updated))
        except ValueError:
            errors.append(FieldError("updated_on", "invalid", "A date, YYYY-MM-DD."))
    if errors:
        raise ValidationFailed.of(errors)
    return out


def decode_form_pdf(pdf_base64: Any) -> bytes:
    """The fund's PDF, base64 in the RPC call: at most 5 MB, a PDF by content."""
    if not isinstance(pdf_base64, str):
        raise ValidationFailed.of([FieldError("pdf_base64", "invalid", "Base64 text.")])
    if len(pdf_base64) > (MAX_FORM_BYTES + 2) // 3 * 4 + 4:
        raise too_large(MAX_FORM_BYTES)
    try:
        data = base64.b64decode(pdf_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.of([FieldError("pdf_base64", "invalid", "Base64 text.")]) \
            from None
    if len(data) > MAX_FORM_BYTES:
        raise too_large(MAX_FORM_BYTES)
    if sniff(data) != PDF:
        raise unsupported_type()
    return data


def _latin(text: str) -> str:
    """Text the PDF standard fonts can draw (Windows-1252), control characters dropped."""
    out = []
    for ch in text:
        if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            continue
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if not unicodedata.combining(c))
            try:
                base.encode("cp1252")
                out.append(base or "?")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


def render_form_pdf(form: dict[str, Any], text: str) -> bytes:
    """A simple PDF form from text: the fund's letterhead, both titles, the fund and
    date, then the text (paragraphs separated by blank lines). Deterministic bytes."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from services.kit.pdf import Letterhead

    def para(value: str) -> str:
        return escape(_latin(value)).replace("\n", "<br/>")

    letterhead = Letterhead()
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm, invariant=True,
                            title=_latin(f"{form['title_fr']} / {form['title_en']}"),
                            author=_latin(letterhead.organisation),
                            creator=_latin(letterhead.service_name))
    story = [Paragraph(f"<b>{para(letterhead.organisation)}</b>", styles["Normal"]),
             Paragraph(para("\n".join(letterhead.address_lines)), styles["Normal"]),
             Spacer(1, 10 * mm),
             Paragraph(para(form["title_fr"]), styles["Title"]),
             Paragraph(para(form["title_en"]), styles["Heading2"]),
             Paragraph(para(f"{form['fund']} - mis à jour le / updated on "
                            f"{form['updated_on']:%d/%m/%Y}"), styles["Normal"]),
             Spacer(1, 8 * mm)]
    for block in re.split(r"\n\s*\n", text.strip()):
        story += [Paragraph(para(block.strip()), styles["BodyText"]), Spacer(1, 3 * mm)]
    doc.build(story)
    return buffer.getvalue()


@dataclass(frozen=True)
class PublishedForm:
    view: dict[str, Any]
    key: str
    stored: bool  # this call put the object (delete it should the transaction fail)
    replaced_key: str | None  # the previous version's object, to delete after commit


def publish_form(tx: UnitOfWork, storage: Storage, form: Any, *, pdf: bytes | None = None,
                 storage_key: str | None = None) -> PublishedForm:
    """Publish (or replace) a form: `pdf` bytes to store, or the key of a PDF already in
    the forms bucket. Validated first; nothing is stored for a refused form."""
    data = validate_form(form)
    if (pdf is None) == (storage_key is None):
        raise ValidationFailed.of([FieldError("pdf", "required",
                                              "Give the PDF or the key of a stored one.")])
    if pdf is not None:
        if len(pdf) > MAX_FORM_BYTES:
            raise too_large(MAX_FORM_BYTES)
        if sniff(pdf) != PDF:
            raise unsupported_type()
        key, size, sha = new_form_key(data["id"]), len(pdf), hashlib.sha256(pdf).hexdigest()
        storage.put(FORMS, key, pdf, PDF, metadata={"sha256": sha})
    else:
        if not isinstance(storage_key, str) or not _OBJECT_KEY.match(storage_key) \
                or ".." in storage_key:
            raise ValidationFailed.of([FieldError("storage_key", "invalid", "An object key.")])
        key = storage_key
        try:
            found = inspect_object(storage, FORMS, key, MAX_FORM_BYTES)
        except ObjectMissing:
            raise unavailable() from None
        if found.content_type != PDF:
            raise unsupported_type()
        size, sha = found.size, found.sha256
    try:
        row = tx.session.get(Form, data["id"], with_for_update=True)
        replaced = row.storage_key if row is not None and row.storage_key != key else None
        if row is None:
            row = Form(id=data["id"], created_at=dt.datetime.now(dt.UTC))
            tx.session.add(row)
        row.title_fr, row.title_en = data["title_fr"], data["title_en"]
        row.category, row.fund = data["category"], data["fund"]
        row.updated_on = data["updated_on"]
        row.size, row.sha256, row.storage_key, row.content_type = size, sha, key, PDF
        row.published = True
        tx.session.flush()
        tx.audit("form.published", member_id=None,
                 details={"form_id": row.id, "sha256": sha, "size": size})
    except BaseException:
        if pdf is not None:
            discard_object(storage, FORMS, key)
        raise
    return PublishedForm(form_view(row), key, pdf is not None, replaced)


def withdraw_form(tx: UnitOfWork, form_id: Any) -> dict[str, Any]:
    """No longer listed nor downloadable; kept, so that publishing it again is one call."""
    row = tx.session.get(Form, form_id, with_for_update=True) \
        if isinstance(form_id, str) and FORM_ID.match(form_id) else None
    if row is None:
        raise form_not_found()
    row.published = False
    tx.audit("form.withdrawn", member_id=None, details={"form_id": row.id})
    return form_view(row)


def list_forms(session: DbSession, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Published forms, by category then French title; `category` and `fund` filters."""
    query = _query(query)
    stmt = sa.select(Form).where(Form.published.is_(True))
    if query.get("category"):
        stmt = stmt.where(Form.category == str(query["category"]))
    if query.get("fund"):
        stmt = stmt.where(Form.fund == str(query["fund"]))
    rows = session.scalars(stmt.order_by(Form.category, Form.title_fr, Form.id))
    return {"items": [form_view(f) for f in rows]}


def _published(session: DbSession, form_id: Any) -> Form:
    row = session.get(Form, form_id) if isinstance(form_id, str) \
        and FORM_ID.match(form_id) else None
    if row is None or not row.published:
        raise form_not_found()
    return row


def get_form(session: DbSession, form_id: Any) -> dict[str, Any]:
    return form_view(_published(session, form_id))


def authorize_form_download(session: DbSession, storage: Storage,
                            form_id: Any) -> dict[str, Any]:
    row = _published(session, form_id)
    if storage.head(FORMS, row.storage_key) is None:
        log.warning("form_object_missing", form_id=row.id)
        raise unavailable()
    return {"bucket": FORMS, "key": row.storage_key, "content_type": row.content_type,
            "filename": f"{row.id}.pdf", "size": row.size, "sha256": row.sha256}
