"""The validated e-mail address and the forgotten password.

Both work with single-use links whose tokens are stored only as digests. The links
themselves reach the member through a direct RPC command to notifications, never an
event (every subscriber reads events).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validate

from services.auth import sessions
from services.auth.accounts import get_person, identity, password_errors
from services.auth.hashing import PasswordHashing
from services.auth.identifiers import IdentifierError, parse_identifier
from services.auth.models import EmailToken, Person, ResetToken, Subscription
from services.auth.schemas import EMAIL_MAX
from services.auth.tokens import digest
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, ServiceError, ValidationFailed

EMAIL_TOKEN_HOURS = 24
RESET_TOKEN_MINUTES = 30
RESETS_PER_HOUR = 3
_email_field = fields.Email(validate=validate.Length(max=EMAIL_MAX))


def _token_problem(kind: str, what: str) -> ServiceError:
    details = {"invalid": f"This {what} link is not valid.",
               "expired": f"This {what} link has expired; ask for a new one.",
               "used": f"This {what} link was already used."}
    status = 410 if kind in ("expired", "used") else 400
    prefix = "email_token" if what == "e-mail" else "reset_token"
    return ServiceError(details[kind], code=f"{prefix}_{kind}", status=status)


def request_email_change(tx: UnitOfWork, member_id: str, email: Any) -> tuple[str, str]:
    """Keep the address as pending; return (address, token) for the link."""
    try:
        address = _email_field.deserialize(email)
    except ValidationError as exc:
        raise ValidationFailed.of([FieldError("email", "invalid", " ".join(exc.messages))],
                                  "The e-mail address is not valid.") from None
    address = address.strip()
    person = get_person(tx.session, member_id)
    now = sessions.now()
    # a newer request voids the pending ones
    tx.session.execute(sa.update(EmailToken).where(
        EmailToken.person_id == person.id, EmailToken.used_at.is_(None),
        EmailToken.expires_at > now).values(expires_at=now))
    token = secrets.token_urlsafe(32)
    tx.session.add(EmailToken(token_hash=digest(token), person_id=person.id, email=address,
                              created_at=now,
                              expires_at=now + dt.timedelta(hours=EMAIL_TOKEN_HOURS)))
    tx.audit("email.change_requested", member_id=person.id)
    return address, token


def verify_email(tx: UnitOfWork, token: Any) -> Person:
    row = tx.session.get(EmailToken, digest(token), with_for_update=True) \
        if isinstance(token, str) and token else None
    if row is None:
        raise _token_problem("invalid", "e-mail")
    if row.used_at is not None:
        raise _token_problem("used", "e-mail")
    if row.expires_at <= sessions.now():
        raise _token_problem("expired", "e-mail")
    row.used_at = sessions.now()
    person = tx.session.get(Person, row.person_id)
    previous = person.email if person.email_validated and person.email != row.email else None
    person.email, person.email_validated = row.email, True
    person.email_validated_at = sessions.now()
    tx.session.flush()
    tx.emit("auth.member_updated", member_id=person.id, data=identity(person))
    tx.emit("auth.email_changed", member_id=person.id,
            data={"email": person.email, "previous_email": previous,
                  "at": person.email_validated_at.isoformat()})
    tx.audit("email.validated", member_id=person.id)
    return person


def forgot_password(tx: UnitOfWork, raw_identifier: Any) -> list[tuple[str, str, str]]:
    """Reset tokens for whoever the identifier designates and can receive e-mail.

    The caller answers the same whatever this returns.
    """
    try:
        ident = parse_identifier(raw_identifier)
    except IdentifierError as exc:
        raise ServiceError(exc.detail, code=exc.code, status=400,
                           extra={"errors": [FieldError("identifier", exc.code, exc.detail)]},
                           ) from None
    people = tx.session.scalars(
        sa.select(Person).join(Subscription)
        .where(Subscription.registration_number.in_(ident.candidates),
               Person.birth_date == ident.birth_date)).unique().all()
    now = sessions.now()
    issued = []
    for person in people:
        if not (person.email and person.email_validated):
            continue
        recent = tx.session.scalar(sa.select(sa.func.count()).select_from(ResetToken).where(
            ResetToken.person_id == person.id,
            ResetToken.created_at > now - dt.timedelta(hours=1)))
        if recent >= RESETS_PER_HOUR:
            continue
        tx.session.execute(sa.update(ResetToken).where(
            ResetToken.person_id == person.id, ResetToken.used_at.is_(None),
            ResetToken.voided_at.is_(None)).values(voided_at=now))
        token = secrets.token_urlsafe(32)
        tx.session.add(ResetToken(token_hash=digest(token), person_id=person.id,
                                  created_at=now,
                                  expires_at=now + dt.timedelta(minutes=RESET_TOKEN_MINUTES)))
        tx.audit("password.reset_requested", member_id=person.id)
        issued.append((person.id, token, person.email))
    return issued


def reset_password(tx: UnitOfWork, hashing: PasswordHashing, token: Any,
                   new_password: Any) -> Person:
    row = tx.session.get(ResetToken, digest(token), with_for_update=True) \
        if isinstance(token, str) and token else None
    if row is None:
        raise _token_problem("invalid", "password reset")
    if row.used_at is not None or row.voided_at is not None:
        raise _token_problem("used", "password reset")
    if row.expires_at <= sessions.now():
        raise _token_problem("expired", "password reset")
    person = tx.session.get(Person, row.person_id)
    errors = password_errors(person, new_password, "new_password")
    if errors:
        raise ValidationFailed.of(errors, "The new password does not follow the rules.")
    row.used_at = sessions.now()
    person.password_hash = hashing.hash(new_password)
    person.must_change_password = False
    person.password_changed_at = sessions.now()
    sessions.end_member_sessions(tx, person.id, "password_reset")
    sessions.clear_person_lock(tx, person)
    tx.emit("auth.password_changed", member_id=person.id,
            data={"session_id": None, "at": person.password_changed_at.isoformat(),
                  "method": "reset"})
    tx.audit("password.reset", member_id=person.id)
    return person
