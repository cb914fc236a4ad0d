import itertools

import pytest

from services.documents.requests.lifecycle import ALLOWED, MEMBER, STAFF, STATUSES, check_transition
from services.kit.errors import Conflict, ValidationFailed


@pytest.mark.parametrize(("current", "target", "by"), [
    ("draft", "submitted", MEMBER), ("draft", "cancelled", MEMBER),
    ("submitted", "cancelled", MEMBER), ("submitted", "in_progress", STAFF),
    ("in_progress", "completed", STAFF), ("needs_information", "in_progress", MEMBER),
])
def test_allowed(current, target, by):
    check_transition(current, target, by, None)


def test_everything_else_is_a_conflict():
    for current, target, by in itertools.product(STATUSES, STATUSES, (MEMBER, STAFF)):
        if by in ALLOWED.get((current, target), ()):
            continue
        with pytest.raises(Conflict) as err:
            check_transition(current, target, by, "a note")
        assert err.value.code == "transition_not_allowed"


def test_members_cannot_cancel_once_in_progress_and_staff_cannot_submit():
    with pytest.raises(Conflict):
        check_transition("in_progress", "cancelled", MEMBER, None)
    with pytest.raises(Conflict):
        check_transition("draft", "submitted", STAFF, None)


@pytest.mark.parametrize("target", ["rejected", "needs_information"])
def test_a_reason_is_required(target):
    with pytest.raises(ValidationFailed):
        check_transition("in_progress", target, STAFF, "  ")
    check_transition("in_progress", target, STAFF, "Missing payslip")
