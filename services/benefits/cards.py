"""Registration cards, their QR payload, the FSE code and the care sheets.

The QR payload is a compact JWS (EdDSA) signed by the suite, valid as long as the
card: a practitioner's system verifies it offline with the published keys
(`/api/v1/.well-known/jwks.json`) and, when it can, asks the status check whether a
renewal revoked it.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session as DbSession

from services.benefits.ledger import AMOUNT_MAX
from services.benefits.models import Beneficiary, Card, CareSheet, FseCode, FseLookup, Member
from services.benefits.secrets_box import SecretBox
from services.kit.db import Store, UnitOfWork
from services.kit.errors import FieldError, NotFound, TooManyRequests, ValidationFailed
from services.kit.ids import parse_uuid
from services.kit.keys import SigningKey

MONACO = ZoneInfo("Europe/Monaco")
ISSUER = "memberspace-benefits"
FSE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
FSE_LENGTH = 12
RIGHTS = ("open", "closed", "suspended")


def today() -> dt.date:
    return dt.datetime.now(MONACO).date()


def _member(session: DbSession, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    return member


# -- cards ---------------------------------------------------------------------------

def issue_card(tx: UnitOfWork, member_id: str, data: Any) -> Card:
    """The fund issues (or renews) the card of one registration number."""
    errors = []
    if not isinstance(data, dict):
        raise ValidationFailed.of([FieldError("card", "invalid", "Expected an object.")])
    number = data.get("registration_number")
    try:
        valid_from = dt.date.fromisoformat(data.get("valid_from", ""))
        valid_until = dt.date.fromisoformat(data.get("valid_until", ""))
        if valid_until < valid_from:
            errors.append(FieldError("valid_until", "before_start", "Ends before it starts."))
    except (TypeError, ValueError):
        errors.append(FieldError("valid_from", "invalid", "Dates as YYYY-MM-DD."))
    if data.get("rights_status") not in RIGHTS:
        errors.append(FieldError("rights_status", "not_allowed", ", ".join(RIGHTS)))
    member = _member(tx.session, member_id)
    held = {s["registration_number"]: s["fund"] for s in member.subscriptions}
    if not isinstance(number, str) or number not in held:
        errors.append(FieldError("registration_number", "not_held",
                                 "Not one of the member's registration numbers."))
    if errors:
        raise ValidationFailed.of(errors)
    now = dt.datetime.now(dt.UTC)
    tx.session.execute(sa.update(Card).where(Card.registration_number == number,
                                             Card.revoked_at.is_(None)).values(revoked_at=now))
    card = Card(id=str(uuid.uuid4()), member_id=member_id, registration_number=number,
                fund=held[number], rights_status=data["rights_status"],
                valid_from=valid_from, valid_until=valid_until, issued_at=now)
    tx.session.add(card)
    tx.audit("card.issued", member_id=member_id, details={"registration_number": number})
    return card


def current_cards(session: DbSession, member_id: str) -> list[Card]:
    return list(session.scalars(sa.select(Card).where(
        Card.member_id == member_id, Card.revoked_at.is_(None)).order_by(Card.fund)))


def qr_payload(key: SigningKey, card: Card, member: Member) -> str:
    end = dt.datetime.combine(card.valid_until, dt.time.max, MONACO)
    start = dt.datetime.combine(card.valid_from, dt.time.min, MONACO)
    return jwt.encode({
        "iss": ISSUER, "jti": card.id, "sub": card.registration_number,
        "name": f"{member.first_name[:1]}. {member.last_name.upper()}",
        "fund": card.fund, "rights": card.rights_status,
        "nbf": int(start.timestamp()), "exp": int(end.timestamp()),
    }, key.private_key, algorithm="EdDSA", headers={"kid": key.kid, "typ": "card+jwt"})


def card_view(session: DbSession, key: SigningKey, member_id: str) -> dict[str, Any]:
    member = _member(session, member_id)
    cards = current_cards(session, member_id)
    if not cards:
        raise NotFound("No card has been issued yet.", code="card_not_found")
    beneficiaries = session.scalars(sa.select(Beneficiary).where(
        Beneficiary.member_id == member_id).order_by(Beneficiary.birth_date)).all()
    card = cards[0]
    return {
        "card_id": card.id, "registration_number": card.registration_number,
        "first_name": member.first_name, "last_name": member.last_name,
        "birth_date": member.birth_date.isoformat(), "fund": card.fund,
        "rights_status": card.rights_status,
        "rights_in_force": card.rights_status == "open"
        and card.valid_from <= today() <= card.valid_until,
        "valid_from": card.valid_from.isoformat(), "valid_until": card.valid_until.isoformat(),
        "beneficiaries": [beneficiary_view(b) for b in beneficiaries],
        "qr_payload": qr_payload(key, card, member),
        "other_cards": [{"registration_number": c.registration_number, "fund": c.fund,
                         "card_id": c.id} for c in cards[1:]],
    }


def card_status(session: DbSession, jti: Any) -> dict[str, Any]:
    key = parse_uuid(jti)
    card = session.get(Card, key) if key else None
    if card is None:
        raise NotFound("Unknown card.", code="card_not_found")
    if card.revoked_at is not None:
        status = "revoked"
    elif card.valid_until < today():
        status = "expired"
    else:
        status = "valid" if card.rights_status == "open" else card.rights_status
    return {"jti": card.id, "status": status, "valid_until": card.valid_until.isoformat()}


# -- beneficiaries -----------------------------------------------------------------------

def beneficiary_view(b: Beneficiary) -> dict[str, Any]:
    return {"id": b.id, "first_name": b.first_name, "last_name": b.last_name,
            "birth_date": b.birth_date.isoformat(), "relationship": b.relationship}


def upsert_beneficiaries(tx: UnitOfWork, member_id: str, items: Any) -> int:
    _member(tx.session, member_id)
    if not isinstance(items, list):
        raise ValidationFailed.of([FieldError("beneficiaries", "invalid", "Expected a list.")])
    for i, item in enumerate(items):
        try:
            row = {"id": str(item["id"]), "member_id": member_id,
                   "first_name": str(item["first_name"])[:100],
                   "last_name": str(item["last_name"])[:100],
                   "birth_date": dt.date.fromisoformat(item["birth_date"]),
                   "relationship": item["relationship"]}
            if row["relationship"] not in ("spouse", "child", "other"):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed.of([FieldError(f"beneficiaries.{i}", "invalid",
                                                  "id, first_name, last_name, birth_date, "
                                                  "relationship (spouse|child|other)")]) from None
        tx.session.execute(pg_insert(Beneficiary).values(**row).on_conflict_do_update(
            index_elements=["id"], set_=row))
    tx.audit("beneficiaries.fed", member_id=member_id, details={"count": len(items)})
    return len(items)


# -- the FSE code -----------------------------------------------------------------------

def new_fse_code() -> str:
    return "".join(secrets.choice(FSE_ALPHABET) for _ in range(FSE_LENGTH))


def renew_fse_code(tx: UnitOfWork, box: SecretBox, member_id: str) -> str:
    """A new code; the old one stops working at once (its row is replaced)."""
    _member(tx.session, member_id)
    code = new_fse_code()
    row = tx.session.get(FseCode, member_id)
    if row is None:
        row = FseCode(member_id=member_id)
        tx.session.add(row)
    row.code_encrypted, row.lookup = box.seal(code), box.lookup(code)
    row.issued_at = dt.datetime.now(dt.UTC)
    tx.audit("fse_code.renewed", member_id=member_id)
    return code


def fse_code(session: DbSession, box: SecretBox, member_id: str) -> dict[str, Any]:
    row = session.get(FseCode, member_id)
    if row is None:
        raise NotFound("No FSE code has been issued yet.", code="fse_code_not_found")
    return {"fse_code": box.open(row.code_encrypted), "issued_at": row.issued_at.isoformat()}


LOOKUP_WINDOW = dt.timedelta(minutes=1)


def allow_lookup(session: DbSession, caller: str, per_minute: int,
                 at: dt.datetime | None = None) -> None:
    """Count one look-up attempt of `caller` (found or not: a system sweeping codes
    mostly misses), refused beyond `per_minute` in the last minute. Kept in the
    database so that every instance counts against one limit; callers are serialised by
    an advisory lock, so two instances cannot both let the last attempt through. Run it
    in a transaction of its own, committed even when the look-up then fails."""
    at = at or dt.datetime.now(dt.UTC)
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(
        sa.func.hashtextextended(f"fse_lookup:{caller}", 0))))
    session.execute(sa.delete(FseLookup).where(FseLookup.caller == caller,
                                               FseLookup.at <= at - LOOKUP_WINDOW))
    recent = session.scalars(sa.select(FseLookup.at).where(FseLookup.caller == caller)
                             .order_by(FseLookup.at)).all()
    if len(recent) >= per_minute:
        wait = (recent[len(recent) - per_minute] + LOOKUP_WINDOW - at).total_seconds()
        raise TooManyRequests("Too many FSE code look-ups; slow down.",
                              extra={"retry_after": str(max(1, math.ceil(wait)))})
    session.add(FseLookup(caller=caller, at=at))


def member_for_code(session: DbSession, box: SecretBox, code: Any) -> str:
    if not isinstance(code, str) or not 8 <= len(code) <= 32:
        raise NotFound("Unknown FSE code.", code="fse_code_not_found")
    member_id = session.scalar(sa.select(FseCode.member_id).where(
        FseCode.lookup == box.lookup(code.strip().upper())))
    if member_id is None:
        raise NotFound("Unknown FSE code.", code="fse_code_not_found")
    return str(member_id)


def care_sheets_for_code(db: Store, caller: str, box: SecretBox, code: Any,
                         lookups_per_minute: int) -> dict[str, Any]:
    """A practitioner's system resolves a member's FSE code to the care sheets: the
    attempt counted first in a transaction of its own (kept even when the code is
    unknown), then the look-up, audited."""
    with db.transaction() as tx:
        allow_lookup(tx.session, caller, lookups_per_minute)
    with db.transaction() as tx:
        member_id = member_for_code(tx.session, box, code)
        tx.audit("fse_code.used", member_id=member_id)
        return care_sheets(tx.session, member_id)


# -- care sheets -------------------------------------------------------------------------

def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.of([FieldError(field, "invalid", "A decimal amount.")]) from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 \
            or amount > AMOUNT_MAX:
        raise ValidationFailed.of([FieldError(field, "invalid",
                                              "Not negative, at most 2 decimals, "
                                              "at most a billion.")])
    return amount


def upsert_care_sheets(tx: UnitOfWork, items: Any) -> int:
    """Idempotent on the fund's ids: sending a batch again changes nothing."""
    if not isinstance(items, list):
        raise ValidationFailed.of([FieldError("care_sheets", "invalid", "Expected a list.")])
    for i, item in enumerate(items):
        try:
            member_id = str(uuid.UUID(str(item["member_id"])))
            _member(tx.session, member_id)
            acts = [{"code": str(a["code"])[:20], "label": str(a["label"])[:200],
                     "amount": str(_money(a["amount"], f"care_sheets.{i}.acts"))}
                    for a in item["acts"]]
            row = {"id": str(item["id"])[:64], "member_id": member_id,
                   "beneficiary_id": item.get("beneficiary_id"),
                   "care_date": dt.date.fromisoformat(item["care_date"]),
                   "practitioner": str(item["practitioner"])[:200], "acts": acts,
                   "amount_charged": _money(item["amount_charged"],
                                            f"care_sheets.{i}.amount_charged"),
                   "amount_refunded": (_money(item["amount_refunded"],
                                              f"care_sheets.{i}.amount_refunded")
                                       if item.get("amount_refunded") is not None else None),
                   "currency": "EUR",
                   "refund_status": item.get("refund_status", "pending")}
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed.of([FieldError(f"care_sheets.{i}", "invalid",
                                                  "id, member_id, care_date, practitioner, "
                                                  "acts, amount_charged")]) from None
        tx.session.execute(pg_insert(CareSheet).values(**row).on_conflict_do_update(
            index_elements=["id"], set_=row))
    return len(items)


def care_sheet_view(sheet: CareSheet) -> dict[str, Any]:
    return {"id": sheet.id, "care_date": sheet.care_date.isoformat(),
            "practitioner": sheet.practitioner, "beneficiary_id": sheet.beneficiary_id,
            "acts": sheet.acts, "amount_charged": str(sheet.amount_charged),
            "amount_refunded": (str(sheet.amount_refunded)
                                if sheet.amount_refunded is not None else None),
            "currency": sheet.currency, "refund_status": sheet.refund_status}


def page_limit(limit: Any) -> int:
    """A caller's page size: a whole number from 1 to 200."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
        raise ValidationFailed.of([FieldError("limit", "invalid", "A whole number, 1 to 200.")])
    return limit


def care_sheets(session: DbSession, member_id: str, limit: int = 50,
                cursor: Any = None) -> dict[str, Any]:
    query = sa.select(CareSheet).where(CareSheet.member_id == member_id)
    if cursor:
        try:
            if not isinstance(cursor, str):
                raise ValueError(cursor)
            at, sheet_id = cursor.split("_", 1)
            query = query.where(sa.tuple_(CareSheet.care_date, CareSheet.id) <
                                sa.tuple_(dt.date.fromisoformat(at), sheet_id))
        except ValueError:
            raise ValidationFailed.of([FieldError("cursor", "invalid",
                                                  "Not a cursor this listing gave.")]) from None
    rows = session.scalars(query.order_by(CareSheet.care_date.desc(), CareSheet.id.desc())
                           .limit(limit + 1)).all()
    page = rows[:limit]
    return {"items": [care_sheet_view(s) for s in page],
            "next_cursor": (f"{page[-1].care_date.isoformat()}_{page[-1].id}"
                            if len(rows) > limit else None)}
