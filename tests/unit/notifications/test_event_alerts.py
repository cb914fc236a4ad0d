"""What the old address is shown of the new one (services.notifications.event_alerts)."""

from __future__ import annotations

import pytest

from services.notifications.event_alerts import mask


@pytest.mark.parametrize(("address", "shown"), [
    ("marie.rocher@example.mc", "m***@example.mc"),
    ("j@example.mc", "j***@example.mc"),
])
def test_the_new_address_is_masked(address: str, shown: str) -> None:
    assert mask(address) == shown
