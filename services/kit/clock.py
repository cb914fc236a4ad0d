"""The suite's one clock.

Business dates are Monaco's: `today()` is the calendar date in Europe/Monaco, whatever the
host's time zone (a server in UTC would otherwise change day at 01:00 or 02:00 in Monaco).
Instants are UTC: `now()` is an aware UTC datetime, and every instant stored or answered
stays UTC (docs/api-conventions.md).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

MONACO = ZoneInfo("Europe/Monaco")


def now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """The current calendar date in Monaco."""
    return now().astimezone(MONACO).date()


def monaco_date(instant: dt.datetime) -> dt.date:
    """The calendar date in Monaco of an aware instant."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no place on the clock; give an aware one")
    return instant.astimezone(MONACO).date()
