"""The registry of online requests: every type, one lifecycle, one history.

Each type declares its parameters (a marshmallow schema, also in the OpenAPI
document), its starting state, whether it completes without a human, and three
hooks with a fixed contract (docs/requests.md): `validate_params(member_id, params)`
returns field errors; `check_submission(member_id, params, attachments)` returns what
is missing; `produce_result(request)` writes the result and returns
`{storage_key, content_type, sha256, verification_code}`. The registry's own types
implement them here; types governed by another service's rules plug in over RPC.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session as DbSession

from services.contracts.requests import CorrectionParams, NoParams, PeriodParams, YearParams
from services.documents import lifecycle
from services.documents.files import decode_cursor, encode_cursor
from services.documents.models import Member, Request, RequestEvent
from services.kit.context import CallContext
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ValidationFailed, marshmallow_errors

MAX_PAGE = 100


@dataclass(frozen=True)
class RequestType:
    name: str
    params: type[Schema]
    start: str = "submitted"
    automatic: bool = False          # completes without a human
    result: str | None = "pdf"       # pdf | json | None
    needs_attachment: bool = False
    service: str | None = None       # the owning service, for types plugged in by RPC


TYPES: dict[str, RequestType] = {t.name: t for t in (
    RequestType("certificate_of_rights", NoParams, automatic=True),
    RequestType("payment_certificate", PeriodParams, automatic=True),
    RequestType("annual_tax_statement", YearParams, automatic=True),
    RequestType("affiliation_certificate", NoParams, automatic=True),
    # supporting documents are uploaded with the request's id once it exists
    RequestType("data_correction", CorrectionParams, result=None),
    RequestType("data_access", NoParams, automatic=True, result="json"),
)}


def external_types(spec: str) -> dict[str, RequestType]:
    """`type=service:start[:auto],...` from configuration, e.g.
    `career_statement=pension:submitted:auto,retirement_pension=pension:draft`."""
    kinds = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, rest = item.partition("=")
        service, start, *flags = rest.split(":")
        if start not in ("draft", "submitted") or not name or not service:
            raise ValueError(f"bad external request type: {item!r}")
        kinds[name] = RequestType(name, NoParams, start=start, automatic="auto" in flags,
                                  service=service)
    return kinds


def request_type(name: Any, kinds: dict[str, RequestType] | None = None) -> RequestType:
    kinds = TYPES if kinds is None else kinds
    if not isinstance(name, str) or name not in kinds:  # a list or object is unhashable
        raise ValidationFailed.of([FieldError("type", "not_allowed",
                                              "One of: " + ", ".join(sorted(kinds)))])
    return kinds[name]


Remote = Callable[..., Any]  # (service, hook, *args, **kwargs) -> answer


# -- hooks for the registry's own types ------------------------------------------------------

def validate_params(kind: RequestType, member_id: str, params: Any,
                    remote: Remote | None = None) -> list[dict[str, str]]:
    if kind.service:
        return list(remote(kind.service, "validate_params", member_id, params or {},
                           request_type=kind.name))
    try:
        kind.params().load(params if params is not None else {})
    except ValidationError as exc:
        return marshmallow_errors(exc.messages, "params")
    return []


def check_submission(kind: RequestType, member_id: str, params: Any,
                     attachments: list[dict[str, Any]], remote: Remote | None = None
                     ) -> list[str]:
    if kind.service:
        return list(remote(kind.service, "check_submission", member_id, params,
                           attachments, request_type=kind.name))
    if kind.needs_attachment and not attachments:
        return ["a supporting document (upload it with this request's id)"]
    return []


# -- operations ----------------------------------------------------------------------------

def _actor(ctx: CallContext) -> tuple[str, str]:
    """member for the member's own requests; staff for agents and internal systems."""
    return (lifecycle.MEMBER if ctx.actor_type == "member" else lifecycle.STAFF,
            ctx.actor_type)


def record(tx: UnitOfWork, req: Request, target: str, note: str | None = None) -> None:
    """Move a request and keep it in its history; every move is an event (drafts are
    private until submitted: no event, no alert)."""
    before = None if req.status == "new" else req.status  # "new": not yet in the registry
    req.status, req.updated_at = target, dt.datetime.now(dt.UTC)
    if target in ("completed", "rejected", "cancelled"):
        req.completed_at = req.updated_at
    if target == "rejected":
        req.reason = note
    tx.session.add(RequestEvent(request_id=req.id, actor_type=tx.context.actor_type,
                                actor_id=tx.context.actor_id, from_status=before,
                                to_status=target, note=note, at=req.updated_at))
    if (target != "draft" and before != "draft") or target == "submitted":
        # a draft is private until submitted: creating or cancelling one is not news
        tx.emit("requests.status_changed", member_id=req.member_id, data={
            "request_id": req.id, "type": req.type, "from": before, "to": target,
            "at": req.updated_at.isoformat(), "note": note if target in (
                "needs_information", "rejected") else None})


def create(tx: UnitOfWork, member_id: str, kind_name: Any, params: Any,
           kinds: dict[str, RequestType] | None = None, remote: Remote | None = None
           ) -> Request:
    kind = request_type(kind_name, kinds)
    if tx.session.get(Member, member_id) is None:
        raise NotFound("This member is not known here yet.", code="member_not_found")
    errors = validate_params(kind, member_id, params, remote)
    if errors:
        raise ValidationFailed.of(errors)
    req = Request(id=str(uuid.uuid4()), member_id=member_id, type=kind.name, status="new",
                  params=params or {}, attachments=[], created_at=dt.datetime.now(dt.UTC))
    tx.session.add(req)
    tx.session.flush()
    record(tx, req, kind.start)
    return req


def get_own(session: DbSession, member_id: str | None, request_id: Any,
            lock: bool = False) -> Request:
    try:
        rid = str(uuid.UUID(str(request_id)))
    except ValueError:
        raise NotFound("No such request.", code="request_not_found") from None
    req = session.get(Request, rid, with_for_update=lock)
    if req is None or (member_id is not None and req.member_id != member_id):
        raise NotFound("No such request.", code="request_not_found")
    return req


def update_draft(tx: UnitOfWork, member_id: str, request_id: Any, params: Any,
                 kinds: dict[str, RequestType] | None = None,
                 remote: Remote | None = None) -> Request:
    req = get_own(tx.session, member_id, request_id, lock=True)
    if req.status != "draft":
        raise lifecycle.Conflict("Only a draft's parameters can change.",
                                 code="transition_not_allowed")
    errors = validate_params(request_type(req.type, kinds), member_id, params, remote)
    if errors:
        raise ValidationFailed.of(errors)
    req.params, req.updated_at = params or {}, dt.datetime.now(dt.UTC)  # as create stores
    return req


def submit(tx: UnitOfWork, member_id: str, request_id: Any,
           kinds: dict[str, RequestType] | None = None, remote: Remote | None = None
           ) -> Request:
    req = get_own(tx.session, member_id, request_id, lock=True)
    lifecycle.check_transition(req.status, "submitted", lifecycle.MEMBER, None)
    missing = check_submission(request_type(req.type, kinds), member_id, req.params,
                               req.attachments, remote)
    if missing:
        raise ValidationFailed.of([FieldError("attachments", "missing", m) for m in missing],
                                  "Something is missing before this can be submitted.")
    record(tx, req, "submitted")
    return req


def cancel(tx: UnitOfWork, member_id: str, request_id: Any) -> Request:
    req = get_own(tx.session, member_id, request_id, lock=True)
    lifecycle.check_transition(req.status, "cancelled", lifecycle.MEMBER, None)
    record(tx, req, "cancelled")
    return req


def reply(tx: UnitOfWork, member_id: str, request_id: Any, message: Any,
          document_ids: Any) -> Request:
    req = get_own(tx.session, member_id, request_id, lock=True)
    if not isinstance(message, str) or not 1 <= len(message.strip()) <= 2000:
        raise ValidationFailed.of([FieldError("message", "invalid", "1 to 2000 characters.")])
    lifecycle.check_transition(req.status, "in_progress", lifecycle.MEMBER, None)
    record(tx, req, "in_progress", note=message.strip())
    if document_ids:
        from services.documents.files import owned_documents

        owned = owned_documents(tx.session, member_id, document_ids)  # 404 if not theirs
        req.attachments = [*req.attachments, *({"document_id": d["id"],
                                                "category": d.get("category")}
                                               for d in owned)]
    return req


def transition(tx: UnitOfWork, request_id: Any, target: Any, note: Any) -> Request:
    """Agents and internal systems move requests along."""
    req = get_own(tx.session, None, request_id, lock=True)
    by, _ = _actor(tx.context)
    note = note.strip() if isinstance(note, str) else None
    lifecycle.check_transition(req.status, str(target), by, note)
    record(tx, req, str(target), note)
    tx.audit("request.transition", member_id=req.member_id,
             details={"request_id": req.id, "to": target})
    return req


def attach(session: DbSession, member_id: str, request_id: str, document_id: str,
           category: str) -> None:
    req = get_own(session, member_id, request_id, lock=True)
    req.attachments = [*req.attachments, {"document_id": document_id, "category": category}]


# -- views ---------------------------------------------------------------------------------

def view(req: Request, history: list[RequestEvent] | None = None) -> dict[str, Any]:
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
    history = session.scalars(sa.select(RequestEvent).where(
        RequestEvent.request_id == req.id).order_by(RequestEvent.id)).all()
    return view(req, list(history))


def listing(session: DbSession, *, member_id: str | None, status: Any, cursor: Any,
            limit: Any, oldest_first: bool = False) -> dict[str, Any]:
    if status is not None and status not in lifecycle.STATUSES:
        raise ValidationFailed.of([FieldError("status", "not_allowed",
                                              ", ".join(lifecycle.STATUSES))])
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed.of([FieldError("limit", "invalid", f"1 to {MAX_PAGE}.")])
    query = sa.select(Request)
    if member_id is not None:
        query = query.where(Request.member_id == member_id)
    else:
        query = query.where(Request.status != "draft")  # drafts are private
    if status:
        query = query.where(Request.status == status)
    key = sa.tuple_(Request.created_at, Request.id)
    if cursor:
        bound = sa.tuple_(*decode_cursor(cursor))
        query = query.where(key > bound if oldest_first else key < bound)
    order = (Request.created_at.asc(), Request.id.asc()) if oldest_first else \
        (Request.created_at.desc(), Request.id.desc())
    rows = session.scalars(query.order_by(*order).limit(limit + 1)).all()
    page = rows[:limit]
    items = [view(r) | ({"member_id": r.member_id} if member_id is None else {})
             for r in page]
    return {"items": items, "next_cursor": encode_cursor(page[-1].created_at, page[-1].id)
            if len(rows) > limit else None}
