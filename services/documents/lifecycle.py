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

Anything else is a 409 `transition_not_allowed`.
"""

from __future__ import annotations

from services.contracts.requests import FINAL_STATUSES as FINAL  # noqa: F401  (re-exported)
from services.contracts.requests import STATUSES
from services.kit.errors import Conflict, FieldError, ValidationFailed

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
