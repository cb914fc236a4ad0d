"""The worker of automatic requests: those that complete without a human.

Each turn takes one request, whichever documents instance runs it: the oldest of an
automatic type that is `submitted`, or `in_progress` again after the member's reply to
`needs_information`. It is locked (`FOR UPDATE SKIP LOCKED`) and marked taken in a
short transaction (`submitted` -> `in_progress` through the lifecycle; a replied one gets
a new `updated_at`, which no longer matches its last history row, so no other turn
takes it again). Its type's `produce_result` hook then writes the result outside any
transaction, and the request moves to `completed` with it; on any failure it moves to
`needs_information` with a note, for an agent to take over.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.documents.requests import lifecycle
from services.documents.requests.hooks import HookSet
from services.documents.requests.models import HistoryEntry, Request
from services.documents.requests.registry import view
from services.documents.requests.types import RequestType
from services.kit.db import Store, UnitOfWork
from services.kit.errors import Conflict
from services.kit.logging import get_logger

log = get_logger(__name__)

HANDED_OVER = ("We could not produce this document automatically; an agent will "
               "follow up.")


def process_batch(db: Store, kinds: dict[str, RequestType], hooks: HookSet,
                  batch: int) -> int:
    """Up to `batch` requests, one at a time; how many were taken."""
    taken = 0
    while taken < batch and process_next(db, kinds, hooks):
        taken += 1
    return taken


def process_next(db: Store, kinds: dict[str, RequestType], hooks: HookSet) -> bool:
    """Take one waiting request and produce its result; False when none waits."""
    automatic = [k.name for k in kinds.values() if k.automatic]
    if not automatic:
        return False
    with db.transaction() as tx:
        req = _take(tx, automatic)
        if req is None:
            return False
        request = view(req) | {"member_id": req.member_id}
    try:
        made = _checked(hooks.of(kinds[request["type"]]).produce_result(request))
        with db.transaction() as tx:
            req = tx.session.get(Request, request["id"], with_for_update=True)
            req.result_key, req.result_content_type = made["storage_key"], made["content_type"]
            req.result_sha256 = made["sha256"]
            req.verification_code = made.get("verification_code")
            lifecycle.move(tx, req, "completed", lifecycle.STAFF)
    except Exception as exc:  # never left in_progress: an agent takes over
        log.warning("request_production_failed", request_id=request["id"],
                    error=type(exc).__name__)
        _hand_over(db, request["id"])
    return True


def _take(tx: UnitOfWork, automatic: list[str]) -> Request | None:
    last = sa.select(HistoryEntry).where(HistoryEntry.request_id == Request.id).order_by(
        HistoryEntry.id.desc()).limit(1)
    last_from = last.with_only_columns(HistoryEntry.from_status).scalar_subquery()
    last_at = last.with_only_columns(HistoryEntry.at).scalar_subquery()
    replied = sa.and_(Request.status == "in_progress", last_from == "needs_information",
                      last_at == Request.updated_at)
    req = tx.session.scalar(sa.select(Request).where(
        Request.type.in_(automatic), sa.or_(Request.status == "submitted", replied))
        .order_by(Request.updated_at).limit(1).with_for_update(skip_locked=True))
    if req is None:
        return None
    if req.status == "submitted":
        lifecycle.move(tx, req, "in_progress", lifecycle.STAFF)
    else:  # taken: its updated_at no longer that of the reply
        req.updated_at = dt.datetime.now(dt.UTC)
    return req


def _checked(made: Any) -> dict[str, Any]:
    """A `produce_result` answer as the hook contract says, else ValueError."""
    if not isinstance(made, dict) or not all(
            isinstance(made.get(k), str) and made[k] for k in (
                "storage_key", "content_type", "sha256")) or not isinstance(
            made.get("verification_code"), str | None):
        raise ValueError("produce_result answered outside its contract")
    return made


def _hand_over(db: Store, request_id: str) -> None:
    try:
        with db.transaction() as tx:
            req = tx.session.get(Request, request_id, with_for_update=True)
            lifecycle.move(tx, req, "needs_information", lifecycle.STAFF, note=HANDED_OVER)
    except Conflict:  # an agent moved it meanwhile: theirs now
        log.info("request_moved_meanwhile", request_id=request_id)
