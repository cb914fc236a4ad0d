"""Members' documents: an upload checked and kept (or refused), then listed, read,
downloaded, exported and erased.

The gateway streams an upload to a random key in the `quarantine` bucket and passes only
that key; `accept_upload` checks the object (type recognised by its content, size,
checksum, the member's quota), copies it under an unguessable key in `documents` and
deletes the quarantine object, whatever the outcome. Downloads are authorised here
(`authorize_download`) and streamed by the gateway from storage. An object missing from
storage is `404 document_unavailable`.

An upload may name one of the member's requests: the registry is reached through the
`RequestLink` the caller passes, never imported from here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.contracts.requests import DOCUMENT_CATEGORIES
from services.documents.files import quarantine
from services.documents.files.content import (
    DOCUMENTS,
    QUARANTINE,
    clean_filename,
    discard_object,
    filters,
    inspect_object,
    parse_uuid,
    too_large,
    unavailable,
    unsupported_type,
)
from services.documents.files.models import Document
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ServiceError, ValidationFailed
from services.kit.logging import get_logger
from services.kit.pagination import decode_cursor, keyset, page_of
from services.kit.storage import ObjectMissing, Storage

log = get_logger(__name__)

CATEGORIES = DOCUMENT_CATEGORIES  # public vocabulary (services.contracts.requests)
DEFAULT_PAGE, MAX_PAGE = 50, 200


def new_storage_key() -> str:
    """An unguessable key for a member's document (192 random bits)."""
    return f"members/{secrets.token_urlsafe(24)}"


def document_not_found() -> NotFound:
    return NotFound("No such document.", code="document_not_found")


class RequestLink(Protocol):
    """The request registry, as an upload naming one of the member's requests sees it."""

    def check_own(self, session: DbSession, member_id: str, request_id: str) -> None:
        """404 `request_not_found` unless it is the member's request (locked till commit)."""

    def attach(self, session: DbSession, member_id: str, request_id: str, document_id: str,
               category: str) -> None:
        """Add the document to the request's attachments."""


# -- accepting an upload ------------------------------------------------------------------


def document_view(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "category": doc.category, "filename": doc.filename,
            "content_type": doc.content_type, "size": doc.size, "sha256": doc.sha256,
            "request_id": doc.request_id, "created_at": doc.created_at.isoformat()}


def used_bytes(session: DbSession, member_id: str) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Document.size), 0))
                              .where(Document.member_id == member_id)) or 0)


def accept_upload(tx: UnitOfWork, storage: Storage, member_id: str, quarantine_key: str,
                  category: Any, filename: Any, request_id: Any, max_bytes: int,
                  quota_bytes: int, *, requests: RequestLink,
                  expected_sha256: str | None = None,
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
    if not isinstance(quarantine_key, str) or \
            not quarantine.QUARANTINE_KEY.match(quarantine_key):
        raise quarantine.upload_not_found()  # not one of the gateway's keys: touch nothing
    try:
        return _accept(tx, storage, member_id, quarantine_key, category, filename, request_id,
                       max_bytes, quota_bytes, expected_sha256, final_key or new_storage_key(),
                       requests)
    finally:
        discard_object(storage, QUARANTINE, quarantine_key)


def _accept(tx: UnitOfWork, storage: Storage, member_id: str, quarantine_key: str,
            category: Any, filename: Any, request_id: Any, max_bytes: int, quota_bytes: int,
            expected_sha256: str | None, final_key: str, requests: RequestLink
            ) -> dict[str, Any]:
    errors = []
    if category not in CATEGORIES:
        errors.append(FieldError("category", "not_allowed",
                                 "Must be one of: " + ", ".join(CATEGORIES) + "."))
    request = None
    if request_id is not None:
        request = parse_uuid(request_id)
        if request is None:
            errors.append(FieldError("request_id", "invalid", "Not a valid UUID."))
    if errors:
        raise ValidationFailed.of(errors)
    if request is not None:  # 404 request_not_found unless it is the member's
        requests.check_own(tx.session, str(member_id), request)

    head = storage.head(QUARANTINE, quarantine_key)
    if head is None or head["metadata"].get("member-id") != str(member_id):
        raise quarantine.upload_not_found()
    if head["size"] > max_bytes:
        raise too_large(max_bytes)
    if head["size"] == 0:
        raise ValidationFailed.of([FieldError("file", "empty", "The file is empty.")])
    try:
        found = inspect_object(storage, QUARANTINE, quarantine_key, max_bytes)
    except ObjectMissing:
        raise quarantine.upload_not_found() from None
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

    quarantine.copy_out(storage, quarantine_key, DOCUMENTS, final_key, found.content_type,
                        {"member-id": str(member_id), "sha256": found.sha256})
    doc = Document(id=str(uuid.uuid4()), member_id=str(member_id), category=category,
                   filename=clean_filename(filename, found.content_type),
                   content_type=found.content_type, size=found.size, sha256=found.sha256,
                   storage_key=final_key, request_id=request,
                   created_at=dt.datetime.now(dt.UTC))
    tx.session.add(doc)
    if request is not None:
        requests.attach(tx.session, str(member_id), request, doc.id, doc.category)
    tx.emit("documents.document_received", member_id=str(member_id),
            data={"document_id": doc.id, "category": doc.category,
                  "filename": doc.filename, "request_id": doc.request_id})
    tx.audit("document.received", member_id=str(member_id),
             details={"document_id": doc.id, "category": doc.category, "size": doc.size,
                      "content_type": doc.content_type, "request_id": doc.request_id})
    return document_view(doc)


# -- the member's documents ------------------------------------------------------------------

def _owned(session: DbSession, member_id: str, document_id: Any) -> Document:
    wanted = parse_uuid(document_id)
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


def list_documents(session: DbSession, member_id: str,
                   query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The member's documents, newest first: `{items, next_cursor}`.

    `query`: `limit` (1-200, default 50), `cursor`, `category`, `request_id`.
    """
    query = filters(query)
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
    if request_id is not None and parse_uuid(request_id) is None:
        errors.append(FieldError("request_id", "invalid", "Not a valid UUID."))
    if errors:
        raise ValidationFailed.of(errors)
    after = decode_cursor(query.get("cursor") or None)
    stmt = sa.select(Document).where(Document.member_id == member_id)
    if category is not None:
        stmt = stmt.where(Document.category == category)
    if request_id is not None:
        stmt = stmt.where(Document.request_id == parse_uuid(request_id))
    rows = session.scalars(keyset(stmt, Document.created_at, Document.id, after, limit)).all()
    return page_of(rows, limit, document_view, lambda d: (d.created_at, d.id))


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
