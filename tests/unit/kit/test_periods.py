"""services.kit.periods.Period: order and length of a period, errors on `to`."""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError

from services.kit.periods import Period


def test_a_period_loads_as_dates():
    assert Period().load({"from": "2020-01-01", "to": "2029-12-31"}) == {
        "date_from": dt.date(2020, 1, 1), "date_to": dt.date(2029, 12, 31)}


def test_to_before_from_is_an_error_on_to():
    with pytest.raises(ValidationError) as caught:
        Period().load({"from": "2024-05-02", "to": "2024-05-01"})
    assert caught.value.messages == {"to": ["Before `from`."]}


def test_more_than_ten_years_is_an_error_on_to():
    with pytest.raises(ValidationError) as caught:
        Period().load({"from": "2014-01-01", "to": "2024-01-02"})
    assert caught.value.messages == {"to": ["At most 10 years."]}


def test_a_limit_past_year_9999_is_no_error():
    assert Period().load({"from": "9995-01-01", "to": "9999-12-31"}) == {
        "date_from": dt.date(9995, 1, 1), "date_to": dt.date(9999, 12, 31)}
