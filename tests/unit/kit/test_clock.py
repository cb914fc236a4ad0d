"""The kit's clock: Monaco's calendar date, UTC instants."""

from __future__ import annotations

import datetime as dt

import pytest

from services.kit import clock


def test_now_is_an_aware_utc_instant() -> None:
    instant = clock.now()
    assert instant.utcoffset() == dt.timedelta(0)


def test_the_date_is_monacos_not_the_hosts() -> None:
    # 23:30 UTC on 31 December is already New Year's Day in Monaco (UTC+1 in winter),
    # and 22:30 UTC on 30 June is already 1 July (UTC+2 in summer)
    assert clock.monaco_date(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)) == \
        dt.date(2027, 1, 1)
    assert clock.monaco_date(dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC)) == \
        dt.date(2026, 7, 1)
    assert clock.monaco_date(dt.datetime(2026, 6, 30, 21, 30, tzinfo=dt.UTC)) == \
        dt.date(2026, 6, 30)


def test_today_agrees_with_now_in_monaco() -> None:
    before = clock.now().astimezone(clock.MONACO).date()
    assert clock.today() in (before, before + dt.timedelta(days=1))


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError):
        clock.monaco_date(dt.datetime(2026, 1, 1, 12, 0))
