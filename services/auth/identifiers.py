"""Member login identifier: ``<registration number>-<date of birth as DDMMYYYY>``.

Registration numbers have 4 to 6 digits. Self-employed numbers have 6 digits starting
with 7, and a self-employed member may leave out that leading 7, so a 5-digit number
may mean either an employee number or a self-employed one.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MAX_CANDIDATES = 2  # most registration numbers one identifier can mean
MAX_RAW_LENGTH = 64
MIN_BIRTH_YEAR = 1900
SELF_EMPLOYED_PREFIX = "7"
MONACO = ZoneInfo("Europe/Monaco")

_SURROUNDING_WHITESPACE = " \t\r\n\u00a0\u2007\u202f"
_PATTERN = re.compile(r"([0-9]{4,6})-([0-9]{2})([0-9]{2})([0-9]{4})")

_FORMAT_HELP = (
    "Enter your registration number and your date of birth as DDMMYYYY joined by a hyphen, "
    "e.g. 123456-03091985 (self-employed: the last 5 digits of your number, "
    "without the leading 7)."
)


class IdentifierError(ValueError):
    """The login identifier is malformed; ``detail`` explains the expected format."""

    code = "invalid_identifier"

    def __init__(self, detail: str = _FORMAT_HELP) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Identifier:
    """A parsed login identifier."""

    candidates: tuple[str, ...]  # registration numbers it may mean, at most MAX_CANDIDATES
    birth_date: datetime.date
    normalized: str  # "<digits as typed>-DDMMYYYY", key for failure counters


def monaco_today() -> datetime.date:
    """Today's date in Monaco."""
    return datetime.datetime.now(MONACO).date()


def registration_number_forms(number: str) -> tuple[str, ...]:
    """Forms a member may type for ``number``: (full, last 5) if self-employed, else (number,)."""
    self_employed = len(number) == 6 and number.startswith(SELF_EMPLOYED_PREFIX)
    if self_employed and number.isascii() and number.isdigit():
        return (number, number[1:])
    return (number,)


def candidates(digits: str) -> tuple[str, ...]:
    """Registration numbers the digits typed in an identifier may mean."""
    if len(digits) == 5:
        return (digits, SELF_EMPLOYED_PREFIX + digits)
    return (digits,)


def parse_identifier(raw: object, *, today: datetime.date | None = None) -> Identifier:
    """Parse ``raw`` into an :class:`Identifier`; raise :class:`IdentifierError` if invalid."""
    if not isinstance(raw, str) or len(raw) > MAX_RAW_LENGTH:
        raise IdentifierError()
    text = raw.strip(_SURROUNDING_WHITESPACE)
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise IdentifierError()
    digits, day, month, year = match.groups()
    try:
        birth_date = datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise IdentifierError(
            f"{_FORMAT_HELP} You typed {day}{month}{year}: that date does not exist."
        ) from None
    if birth_date.year < MIN_BIRTH_YEAR:
        raise IdentifierError(
            f"{_FORMAT_HELP} The year of birth must be {MIN_BIRTH_YEAR} or later."
        )
    if birth_date > (today or monaco_today()):
        raise IdentifierError(f"{_FORMAT_HELP} The date of birth cannot be in the future.")
    return Identifier(
        candidates=candidates(digits),
        birth_date=birth_date,
        normalized=f"{digits}-{day}{month}{year}",
    )
