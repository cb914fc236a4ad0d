"""The nightly import's window (services.benefits.feed_imports), hours in Monaco."""

from __future__ import annotations

import datetime as dt

import pytest

from services.benefits import feed_imports


class DroppedFiles:
    """The feeds bucket as the import sees it: nothing dropped; it notes each look."""

    def __init__(self) -> None:
        self.looked: list[tuple[str, str]] = []

    def list(self, bucket: str, prefix: str) -> list[str]:
        self.looked.append((bucket, prefix))
        return []


@pytest.mark.parametrize(("utc_hour", "looks"), [
    (0, True),    # 01:00 in Monaco (winter, UTC+1): the window's first hour
    (5, True),    # 06:00
    (6, False),   # 07:00: the end is excluded
    (23, False),  # 00:00
    (11, False),
])
def test_the_timer_imports_only_within_the_window(utc_hour: int, looks: bool) -> None:
    storage = DroppedFiles()
    now = dt.datetime(2026, 1, 15, utc_hour, 30, tzinfo=dt.UTC)
    assert feed_imports.import_if_in_window(None, storage, 7, "1-7", now) == []  # type: ignore[arg-type]
    assert storage.looked == ([(feed_imports.FEEDS, feed_imports.INCOMING)] if looks else [])


def test_summer_time_moves_the_window_in_utc() -> None:
    storage = DroppedFiles()
    now = dt.datetime(2026, 7, 15, 23, 30, tzinfo=dt.UTC)  # 01:30 in Monaco (UTC+2)
    feed_imports.import_if_in_window(None, storage, 7, "1-7", now)  # type: ignore[arg-type]
    assert storage.looked
