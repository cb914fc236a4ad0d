"""A period of dates as the suite's messages carry it: `{"from": date, "to": date}`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema

STATEMENT_MAX_YEARS = 10  # one payment certificate or statement covers at most this


class Period(Schema):
    """Both ends required, `to` not before `from` and at most `max_years` after it
    (errors on `to`); loads as `date_from` / `date_to`."""

    class Meta:
        unknown = RAISE

    max_years = STATEMENT_MAX_YEARS

    date_from = fields.Date(data_key="from", required=True)
    date_to = fields.Date(data_key="to", required=True)

    @validates_schema
    def _order(self, data: dict, **_: Any) -> None:
        if data["date_to"] < data["date_from"]:
            raise ValidationError("Before `from`.", "to")
        try:
            latest = data["date_from"] + relativedelta(years=self.max_years)
        except (ValueError, OverflowError):  # past year 9999: any `to` is within the limit
            latest = dt.date.max
        if data["date_to"] > latest:
            raise ValidationError(f"At most {self.max_years} years.", "to")
