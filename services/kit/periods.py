"""A period of dates as the suite's messages carry it: `{"from": date, "to": date}`.

The schema is public vocabulary (services.contracts.periods); re-exported here."""

from services.contracts.periods import STATEMENT_MAX_YEARS, Period

__all__ = ["STATEMENT_MAX_YEARS", "Period"]
