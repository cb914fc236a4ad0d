"""services.notifications.event_alerts: what the old address is shown of the new one, and
how a request's move is told."""

from __future__ import annotations

import datetime as dt

import pytest

from services.notifications.event_alerts import mask, told_in
from services.notifications.models import Alert


@pytest.mark.parametrize(("address", "shown"), [
    ("marie.rocher@example.mc", "m***@example.mc"),
    ("j@example.mc", "j***@example.mc"),
])
def test_the_new_address_is_masked(address: str, shown: str) -> None:
    assert mask(address) == shown


# -- how a request's move is told (one alert for the system's quick moves) ----------------

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def shown(moved_by: str | None, seconds: float) -> Alert:
    """A recent unread alert showing a move made `seconds` after T0."""
    return Alert(kind="request_status", moved_by=moved_by,
                 moved_at=T0 + dt.timedelta(seconds=seconds))


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_a_move_with_no_recent_alert_gets_its_own() -> None:
    assert told_in(None, at(0), "system") == "own"
    assert told_in(None, at(0), "member") == "own"


def test_a_later_system_move_replaces_the_recent_alert() -> None:
    assert told_in(shown("member", 0), at(1), "system") == "replace"  # received -> in progress
    assert told_in(shown("system", 1), at(2), "system") == "replace"  # -> completed


def test_an_earlier_system_move_arriving_late_is_covered() -> None:
    assert told_in(shown("system", 2), at(1), "system") == "covered"


def test_the_member_s_move_arriving_after_a_later_system_move_is_covered() -> None:
    assert told_in(shown("system", 2), at(0), "member") == "covered"


@pytest.mark.parametrize("by", ["agent", "member"])
def test_agents_and_members_moves_keep_their_alert(by: str) -> None:
    assert told_in(shown("agent", 0), at(1), by) == "own"
    assert told_in(shown("member", 0), at(1), by) == "own"
    assert told_in(shown("system", 0), at(1), by) == "own"  # later than the system's


def test_an_alert_from_before_moves_were_kept_is_replaced_by_the_system() -> None:
    assert told_in(Alert(kind="request_status"), at(1), "system") == "replace"
