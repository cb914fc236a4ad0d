"""The registry of online requests: every type, one lifecycle, one history.

What the member and agents do with requests: create, change a draft, submit, cancel,
reply, move (staff), read, list. Types are in `types`; their checks are the hooks'
(`hooks`, the contract of docs/requests.md); every status move is `lifecycle.move`'s.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.documents.files.uploads import owned_documents
from services.documents.members import Member
from services.documents.requests import lifecycle
from services.documents.requests.hooks import HookSet
from services.documents.requests.models import HistoryEntry, Request
from services.documents.requests.types import RequestType, request_type
from services.kit.db import UnitOfWork
from services.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from services.kit.pagination import decode_cursor, keyset, page_of
from services.kit.storage import Storage

MAX_PAGE = 100
Kinds = dict[str, RequestType] | None  # None: the registry's own types only


def request_not_found() -> NotFound:
    return NotFound("No such request.", code="request_not_found")


def get_own(session: DbSession, member_id: str | None, request_id: Any,
            lock: bool = False) -> Request:
    """The request, if it is `member_id`'s (any member's for None); 404 otherwise."""
    try:
        rid = str(uuid.UUID(str(request_id)))
    except ValueError:
        raise request_not_found() from None
    req = session.get(Request, rid, with_for_update=lock)
    if req is None or (member_id is not None and req.member_id != member_id):
        raise request_not_found()
    return req


# -- the member's operations -------------------------------------------------------------------

def create(tx: UnitOfWork, member_id: str, kind_name: Any, params: Any,
           kinds: Kinds = None, hooks: HookSet | None = None) -> Request:
    kind = request_type(kind_name, kinds)
    if tx.session.get(Member, member_id) is None:
        raise NotFound("This member is not known here yet.", code="member_not_found")
    errors = (hooks or HookSet()).of(kind).validate_params(member_id, params, kind.name)
    if errors:
        raise ValidationFailed.of(errors)
    req = Request(id=str(uuid.uuid4()), member_id=member_id, type=kind.name,
                  params=params or {}, attachments=[], created_at=dt.datetime.now(dt.UTC))
    tx.session.add(req)
    lifecycle.enter(tx, req, kind.start)
    return req


def update_draft(tx: UnitOfWork, member_id: str, request_id: Any, params: Any,
                 kinds: Kinds = None, hooks: HookSet | None = None) -> Request:
    req = get_own(tx.session, member_id, request_id, lock=True)
    if req.status != "draft":
        raise Conflict("Only a draft's parameters can change.", code="transition_not_allowed")
    kind = request_type(req.type, kinds)
    errors = (hooks or HookSet()).of(kind).validate_params(member_id, params, kind.name)
    if errors:
        raise ValidationFailed.of(errors)
    req.params, req.updated_at = params or {}, dt.datetime.now(dt.UTC)  # as create stores
    return req


def submit(tx: UnitOfWork, member_id: str, request_id: Any, kinds: Kinds = None,
           hooks: HookSet | None = None) -> Request:
    req = get_own(tx.session, member_id, request_id, lock=True)
    lifecycle.check_transition(req.status, "submitted", lifecycle.MEMBER, None)  # 409 first
    kind = request_type(req.type, kinds)
    missing = (hooks or HookSet()).of(kind).check_submission(
        member_id, req.params, req.attachments, kind.name)
    if missing:
        raise ValidationFailed.of([FieldError("attachments", "missing", m) for m in missing],
                                  "Something is missing before this can be submitted.")
    lifecycle.move(tx, req, "submitted", lifecycle.MEMBER)
    return req


def cancel(tx: UnitOfWork, member_id: str, request_id: Any) -> Request:
    req = get_own(tx.session, member_id, request_id, lock=True)
    lifecycle.move(tx, req, "cancelled", lifecycle.MEMBER)
    return req


def reply(tx: UnitOfWork, member_id: str, request_id: Any, message: Any,
          document_ids: Any) -> Request:
    """The member answers `needs_information`: back to `in_progress`, the message as the
    note, the named documents (theirs, else 404) added to the attachments."""
    req = get_own(tx.session, member_id, request_id, lock=True)
    if not isinstance(message, str) or not 1 <= len(message.strip()) <= 2000:
        raise ValidationFailed.of([FieldError("message", "invalid", "1 to 2000 characters.")])
    lifecycle.move(tx, req, "in_progress", lifecycle.MEMBER, note=message.strip())
    if document_ids:
        owned = owned_documents(tx.session, member_id, document_ids)  # 404 if not theirs
        req.attachments = [*req.attachments, *({"document_id": d["id"],
                                                "category": d.get("category")}
                                               for d in owned)]
    return req


# -- agents and internal systems ---------------------------------------------------------------

def transition(tx: UnitOfWork, request_id: Any, target: Any, note: Any) -> Request:
    """Agents and internal systems move requests along (staff, unless the caller's actor
    is a member)."""
    req = get_own(tx.session, None, request_id, lock=True)
    note = note.strip() if isinstance(note, str) else None
    lifecycle.move(tx, req, str(target), lifecycle.side_of(tx.context), note)
    tx.audit("request.transition", member_id=req.member_id,
             details={"request_id": req.id, "to": target})
    return req


class DocumentsLink:
    """The registry as files' uploads see it (`files.uploads.RequestLink`)."""

    def check_own(self, session: DbSession, member_id: str, request_id: str) -> None:
        get_own(session, member_id, request_id, lock=True)

    def attach(self, session: DbSession, member_id: str, request_id: str, document_id: str,
               category: str) -> None:
        req = get_own(session, member_id, request_id, lock=True)
        req.attachments = [*req.attachments, {"document_id": document_id,
                                              "category": category}]


# -- views ---------------------------------------------------------------------------------

def view(req: Request, history: list[HistoryEntry] | None = None) -> dict[str, Any]:
    out = {"id": req.id, "type": req.type, "status": req.status, "params": req.params,
           "attachments": req.attachments, "reason": req.reason,
           "created_at": req.created_at.isoformat(), "updated_at": req.updated_at.isoformat(),
           "completed_at": req.completed_at.isoformat() if req.completed_at else None,
           "has_document": req.result_key is not None,
           "verification_code": req.verification_code}
    if history is not None:
        out["history"] = [{"at": h.at.isoformat(), "from": h.from_status, "to": h.to_status,
                           "by": h.actor_type, "note": h.note} for h in history]
    return out


def with_history(session: DbSession, req: Request) -> dict[str, Any]:
    history = session.scalars(sa.select(HistoryEntry).where(
        HistoryEntry.request_id == req.id).order_by(HistoryEntry.id)).all()
    return view(req, list(history))


def listing(session: DbSession, *, member_id: str | None, status: Any, cursor: Any,
            limit: Any, oldest_first: bool = False) -> dict[str, Any]:
    """A member's requests, newest first; or (member_id None) every member's but drafts,
    oldest first for the agents' queue, each with its `member_id`."""
    if status is not None and status not in lifecycle.STATUSES:
        raise ValidationFailed.of([FieldError("status", "not_allowed",
                                              ", ".join(lifecycle.STATUSES))])
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed.of([FieldError("limit", "invalid", f"1 to {MAX_PAGE}.")])
    after = decode_cursor(cursor or None)
    query = sa.select(Request)
    if member_id is not None:
        query = query.where(Request.member_id == member_id)
    else:
        query = query.where(Request.status != "draft")  # drafts are private
    if status:
        query = query.where(Request.status == status)
    rows = session.scalars(keyset(query, Request.created_at, Request.id, after, limit,
                                  oldest_first=oldest_first)).all()
    return page_of(rows, limit,
                   lambda r: view(r) | ({"member_id": r.member_id} if member_id is None
                                        else {}),
                   lambda r: (r.created_at, r.id))


def result_grant(req: Request, storage: Storage, bucket: str) -> dict[str, Any]:
    """What the gateway needs to stream a request's result from storage."""
    if not req.result_key:
        raise NotFound("This request has no document (yet).", code="document_not_ready")
    head = storage.head(bucket, req.result_key)
    if head is None:
        raise NotFound("The document is not available right now.",
                       code="document_unavailable")
    extension = "json" if req.result_content_type == "application/json" else "pdf"
    return {"bucket": bucket, "key": req.result_key,
            "content_type": req.result_content_type, "size": head["size"],
            "filename": f"{req.type}-{req.created_at:%Y%m%d}.{extension}"}


# -- the member's data -----------------------------------------------------------------------

def export_member_requests(session: DbSession, member_id: str) -> list[dict[str, Any]]:
    requests = session.scalars(sa.select(Request).where(
        Request.member_id == member_id).order_by(Request.created_at)).all()
    return [with_history(session, r) for r in requests]


def erase_member_requests(session: DbSession, storage: Storage, bucket: str,
                          member_id: str) -> None:
    """The member's requests, their history and their results' objects."""
    for key in session.scalars(sa.select(Request.result_key).where(
            Request.member_id == member_id, Request.result_key.is_not(None))):
        storage.delete(bucket, key)
    ids = sa.select(Request.id).where(Request.member_id == member_id)
    session.execute(sa.delete(HistoryEntry).where(HistoryEntry.request_id.in_(ids)))
    session.execute(sa.delete(Request).where(Request.member_id == member_id))
