"""The fund's CSV feed of refunds and payments: parsed and checked row by row, no I/O.

A bad row never stops the file: it is set aside with its line number and the reasons,
and every good row goes on. Only a file that cannot be read as a feed at all (not
UTF-8, no header, a required column missing, too many rows) raises `FeedError`.

Each physical line is one row: a stray quote then spoils only its own line instead
of swallowing the rest of the file. The good rows are checked to the same limits as
`ledger.load_records` (field names included, see `FeedRecord.as_record`), so a
parsed batch is not refused there. A million rows take seconds of CPU: call it
through `services.kit.offload.off_loop` from a worker.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.benefits.ledger import AMOUNT_MAX
from services.kit.errors import ServiceError

COLUMNS = ("record_id", "kind", "member_registration_number", "beneficiary_id", "date",
           "paid_on", "amount", "currency", "label", "practitioner", "amount_charged",
           "refund_base", "paid_to", "period_start", "period_end", "payment_type")
DELIMITERS = (";", ",")
RAW_LIMIT = 1000  # characters of a rejected line kept in the report

_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
_REGISTRATION = re.compile(r"^[0-9]{4,6}$")
_PAYMENT_TYPE = re.compile(r"^[a-z_]{2,40}$")
_AMOUNT = re.compile(r"^([0-9]{1,10})(?:[.,]([0-9]{1,2}))?$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_FR_DATE = re.compile(r"^([0-9]{2})/([0-9]{2})/([0-9]{4})$")


class FeedError(ServiceError):
    """The file as a whole cannot be read as a feed."""

    status = 422
    code = "feed_unreadable"


@dataclass(frozen=True)
class FeedRecord:
    """A good row. `fields` uses the ledger's names: amounts "23.40", dates ISO."""

    line: int
    kind: str
    record_id: str
    registration_number: str
    fields: dict[str, Any]

    def as_record(self) -> dict[str, Any]:
        """The dict `ledger.load_records` takes."""
        return {"kind": self.kind, "record_id": self.record_id,
                "registration_number": self.registration_number, **self.fields}


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    raw: str


@dataclass
class ParsedFeed:
    records: list[FeedRecord] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    sha256: str = ""


def parse_feed(data: bytes, max_rows: int = 1_000_000) -> ParsedFeed:
    """Every good row as a FeedRecord, every bad one as a RejectedRow (1-based lines)."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"The file is not UTF-8 text (byte {exc.start}).") from None
    lines = io.StringIO(text, newline="")
    header_line, header, delimiter = _header(lines)
    index = {name: header.index(name) for name in COLUMNS}
    parsed = ParsedFeed(sha256=digest)
    first_seen: dict[str, int] = {}
    rows = 0
    for number, physical in enumerate(lines, start=header_line + 1):
        line = physical.rstrip("\r\n")
        if not line.strip():
            continue
        rows += 1
        if rows > max_rows:
            raise FeedError(f"The file has more than {max_rows} rows.")
        raw = line[:RAW_LIMIT]
        try:
            cells = next(csv.reader([line], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            parsed.rejected.append(RejectedRow(number, f"malformed CSV line: {exc}", raw))
            continue
        if len(cells) != len(header):
            parsed.rejected.append(RejectedRow(
                number, f"expected {len(header)} fields, found {len(cells)}", raw))
            continue
        row = {name: cells[i].strip() for name, i in index.items()}
        fields, problems = _check(row)
        record_id = row["record_id"]
        if _RECORD_ID.match(record_id):
            # a rejected row keeps its id too: which of the two is right is for the fund
            if record_id in first_seen:
                problems.insert(0, f"duplicate record_id in file (first on line "
                                   f"{first_seen[record_id]})")
            else:
                first_seen[record_id] = number
        if problems:
            parsed.rejected.append(RejectedRow(number, "; ".join(problems), raw))
        else:
            parsed.records.append(FeedRecord(number, row["kind"].lower(), record_id,
                                             row["member_registration_number"], fields))
    return parsed


def _header(lines: io.StringIO) -> tuple[int, list[str], str]:
    """The first non-blank line: its number, its column names and the delimiter."""
    number, line = 0, ""
    for physical in lines:
        number += 1
        line = physical.rstrip("\r\n")
        if line.strip():
            break
    if not line.strip():
        raise FeedError("The file is empty: no header line.")
    best: tuple[list[str], str] | None = None
    for delimiter in DELIMITERS:
        try:
            names = [c.strip().lower() for c in next(csv.reader([line], delimiter=delimiter,
                                                                strict=True))]
        except csv.Error:
            continue
        if best is None or len(names) > len(best[0]):
            best = (names, delimiter)
    if best is None:
        raise FeedError("The header line is not valid CSV.")
    names, delimiter = best
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise FeedError(f"The header lacks the column(s): {', '.join(missing)}.")
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise FeedError(f"The header repeats the column(s): {', '.join(repeated)}.")
    return number, names, delimiter


def _check(row: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The record's fields in the ledger's names, and every problem found (empty: good)."""
    problems: list[str] = []
    record_id = row["record_id"]
    if not record_id:
        problems.append("record_id: missing")
    elif not _RECORD_ID.match(record_id):
        problems.append("record_id: 1 to 64 of letters, digits and . _ : / -")
    number = row["member_registration_number"]
    if not number:
        problems.append("member_registration_number: missing")
    elif not _REGISTRATION.match(number):
        problems.append("member_registration_number: 4 to 6 digits")
    currency = (row["currency"] or "EUR").upper()
    if currency != "EUR":
        problems.append(f"currency: only EUR is accepted, not {row['currency']!r}")
    kind = row["kind"].lower()
    if kind == "refund":
        fields = _refund(row, problems)
    elif kind == "payment":
        fields = _payment(row, problems)
    else:
        problems.append("kind: missing" if not kind else
                        f"kind: refund or payment, not {row['kind']!r}")
        fields = {}
    fields["currency"] = currency
    return fields, problems


def _refund(row: dict[str, str], problems: list[str]) -> dict[str, Any]:
    beneficiary = row["beneficiary_id"] or None
    if beneficiary is not None and len(beneficiary) > 64:
        problems.append("beneficiary_id: at most 64 characters")
    out = {
        "beneficiary_id": beneficiary,
        "care_date": _date(row, "date", problems),
        "refund_date": _date(row, "paid_on", problems),
        "practitioner": _text(row, "practitioner", problems, required=True),
        "act": _text(row, "label", problems, required=True),
        "amount_charged": _amount(row, "amount_charged", problems),
        "refund_base": _amount(row, "refund_base", problems),
        "amount_refunded": _amount(row, "amount", problems),
    }
    paid_to = row["paid_to"].lower()
    if paid_to not in ("member", "insurer"):
        problems.append("paid_to: missing" if not paid_to else
                        f"paid_to: member or insurer, not {row['paid_to']!r}")
    out["paid_to"] = paid_to
    return out


def _payment(row: dict[str, str], problems: list[str]) -> dict[str, Any]:
    payment_type = row["payment_type"]
    if not payment_type:
        problems.append("payment_type: missing")
    elif not _PAYMENT_TYPE.match(payment_type):
        problems.append("payment_type: 2 to 40 of a-z and _")
    out = {
        "payment_type": payment_type,
        "label": _text(row, "label", problems, required=False),
        "period_start": _date(row, "period_start", problems),
        "period_end": _date(row, "period_end", problems),
        "payment_date": _date(row, "paid_on", problems),
        "amount": _amount(row, "amount", problems),
    }
    if out["period_start"] and out["period_end"] and out["period_end"] < out["period_start"]:
        problems.append("period_end: before period_start")
    return out


def _text(row: dict[str, str], column: str, problems: list[str], *,
          required: bool) -> str | None:
    value = row[column]
    if not value:
        if required:
            problems.append(f"{column}: missing")
        return None
    if len(value) > 200:
        problems.append(f"{column}: at most 200 characters")
    return value


def _amount(row: dict[str, str], column: str, problems: list[str]) -> str | None:
    """ "23,4" and "23.40" both give "23.40"; no sign, no thousands separator."""
    value = row[column]
    if not value:
        problems.append(f"{column}: missing")
        return None
    if value.startswith("-"):
        problems.append(f"{column}: must not be negative")
        return None
    found = _AMOUNT.match(value)
    if not found:
        problems.append(f"{column}: not an amount with at most 2 decimals: {value!r}")
        return None
    amount = Decimal(f"{found.group(1)}.{found.group(2) or '0'}").quantize(Decimal("0.01"))
    if amount > AMOUNT_MAX:  # the batch's own limit: a row it would refuse is bad here
        problems.append(f"{column}: more than {AMOUNT_MAX:,}: {value!r}")
        return None
    return str(amount)


def _date(row: dict[str, str], column: str, problems: list[str]) -> str | None:
    """YYYY-MM-DD or DD/MM/YYYY, returned as ISO."""
    value = row[column]
    if not value:
        problems.append(f"{column}: missing")
        return None
    iso, french = _ISO_DATE.match(value), _FR_DATE.match(value)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3])).isoformat()
        if french:
            return dt.date(int(french[3]), int(french[2]), int(french[1])).isoformat()
    except ValueError:
        problems.append(f"{column}: no such date: {value!r}")
        return None
    problems.append(f"{column}: a date as YYYY-MM-DD or DD/MM/YYYY, not {value!r}")
    return None
