"""The one lifecycle of every request, enforced by one function.

| from              | to                 | who                         |
|-------------------|--------------------|-----------------------------|
| draft             | submitted          | member (submit)             |
| draft, submitted  | cancelled          | member (cancel)             |
| submitted         | in_progress        | agent, system               |
| submitted         | rejected           | agent, system (with reason) |
| in_progress       | completed          | agent, system               |
| in_progress       | rejected           | agent, system (with reason) |
| in_progress       | needs_information  | agent, system (with note)   |
| needs_information | in_progress        | member (reply)              |

Anything else is a 409 `transition_not_allowed`. Every move, the worker's included,
goes through `move` (checked, then recorded in the history and published); a new
request enters its type's starting state through `enter`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from services.contracts.requests import FINAL_STATUSES as FINAL
from services.contracts.requests import STATUSES
from services.documents.requests.models import HistoryEntry, Request
from services.kit.errors import Conflict, FieldError, ValidationFailed

if TYPE_CHECKING:
    from services.kit.context import CallContext
    from services.kit.db import UnitOfWork

MEMBER, STAFF = "member", "staff"

ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("draft", "submitted"): frozenset({MEMBER}),
    ("draft", "cancelled"): frozenset({MEMBER}),
    ("submitted", "cancelled"): frozenset({MEMBER}),
    ("submitted", "in_progress"): frozenset({STAFF}),
    ("submitted", "rejected"): frozenset({STAFF}),
    ("in_progress", "completed"): frozenset({STAFF}),
    ("in_progress", "rejected"): frozenset({STAFF}),
    ("in_progress", "needs_information"): frozenset({STAFF}),
    ("needs_information", "in_progress"): frozenset({MEMBER}),
}
NOTE_REQUIRED = frozenset({"rejected", "needs_information"})


def check_transition(current: str, target: str, by: str, note: str | None) -> None:
    """Raise unless `by` (member or staff) may move a request from `current` to `target`."""
    if target not in STATUSES:
        raise ValidationFailed.of([FieldError("to", "not_allowed", ", ".join(STATUSES))])
    if by not in ALLOWED.get((current, target), frozenset()):
        raise Conflict(f"A request cannot go from {current} to {target} this way.",
                       code="transition_not_allowed",
                       extra={"from": current, "to": target})
    if target in NOTE_REQUIRED and not (note and note.strip()):
        raise ValidationFailed.of([FieldError("note", "required",
                                              "Say why (the member will read it).")])


def side_of(ctx: CallContext) -> str:
    """member for a caller acting as a member; staff for agents and internal systems."""
    return MEMBER if ctx.actor_type == "member" else STAFF


def enter(tx: UnitOfWork, req: Request, start: str) -> None:
    """A new request's first history row, in its type's starting state (draft or
    submitted); published unless it is a draft."""
    _record(tx, req, None, start, None)


def move(tx: UnitOfWork, req: Request, target: str, by: str, note: str | None = None
         ) -> None:
    """Check the move (`check_transition`), then make it: status, history, event."""
    check_transition(req.status, target, by, note)
    _record(tx, req, req.status, target, note)


def _record(tx: UnitOfWork, req: Request, before: str | None, target: str,
            note: str | None) -> None:
    req.status, req.updated_at = target, dt.datetime.now(dt.UTC)
    if target in FINAL:
        req.completed_at = req.updated_at
    if target == "rejected":
        req.reason = note
    tx.session.add(HistoryEntry(request_id=req.id, actor_type=tx.context.actor_type,
                                actor_id=tx.context.actor_id, from_status=before,
                                to_status=target, note=note, at=req.updated_at))
    if (target != "draft" and before != "draft") or target == "submitted":
        # a draft is private until submitted: creating or cancelling one is not news
        tx.emit("requests.status_changed", member_id=req.member_id, data={
            "request_id": req.id, "type": req.type, "from": before, "to": target,
            "at": req.updated_at.isoformat(), "by": tx.context.actor_type,
            "note": note if target in ("needs_information", "rejected") else None})
