"""Member accounts: creation by the fund, login, password changes.

Plain functions over a unit of work (`services.kit.db.UnitOfWork`); the service
class only parses and calls them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy import orm
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session as DbSession

from services.auth import sessions
from services.auth.hashing import PasswordHashing
from services.auth.identifiers import IdentifierError, parse_identifier
from services.auth.models import MConnectIdentity, Person, Session, Subscription
from services.auth.passwords import PersonalFacts, check_password
from services.auth.schemas import CredentialsSchema, MemberSchema
from services.kit.db import UnitOfWork
from services.kit.errors import (
    Conflict,
    FieldError,
    NotFound,
    ServiceError,
    Unauthorized,
    ValidationFailed,
    marshmallow_errors,
)
from services.kit.ids import parse_uuid
from services.kit.logging import get_logger

log = get_logger(__name__)

def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def identity(person: Person) -> dict[str, Any]:
    """The identity other services copy (events, listings): never a secret."""
    return {
        "member_id": person.id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "email": person.email,
        "email_validated": person.email_validated,
        "language": person.language,
        "subscriptions": [
            {"fund": s.fund, "registration_number": s.registration_number}
            for s in person.subscriptions
        ],
    }


def member_view(session: DbSession, member_id: str) -> dict[str, Any]:
    """What the member sees of their own account: one query, no ORM (a hot path)."""
    _check_uuid(member_id)
    p, s = Person.__table__, Subscription.__table__
    subscriptions = sa.select(sa.func.coalesce(
        sa.func.json_agg(aggregate_order_by(
            sa.func.json_build_object("fund", s.c.fund,
                                      "registration_number", s.c.registration_number),
            s.c.registration_number)),
        sa.text("'[]'::json"))).where(s.c.person_id == p.c.id).scalar_subquery()
    row = session.execute(sa.select(
        p.c.id, p.c.first_name, p.c.last_name, p.c.birth_date, p.c.sex, p.c.email,
        p.c.email_validated, p.c.language, p.c.must_change_password,
        p.c.previous_login_at, p.c.previous_login_method,
        subscriptions.label("subscriptions")).where(p.c.id == str(member_id))).one_or_none()
    if row is None:
        raise NotFound("No such member.", code="member_not_found")
    return {
        "member_id": str(row.id), "first_name": row.first_name, "last_name": row.last_name,
        "birth_date": row.birth_date.isoformat(), "sex": row.sex, "email": row.email,
        "email_validated": row.email_validated, "language": row.language,
        "subscriptions": row.subscriptions,
        "must_change_password": row.must_change_password,
        "previous_login_at": _iso(row.previous_login_at),
        "previous_login_method": row.previous_login_method,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _load(schema: MemberSchema, data: Any, partial: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed.of([FieldError("body", "invalid", "Expected an object.")])
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise ValidationFailed.of(marshmallow_errors(exc.messages)) from None


def _check_uuid(member_id: Any) -> None:
    if parse_uuid(member_id) is None:
        raise NotFound("No such member.", code="member_not_found")


def get_person(session: DbSession, member_id: str) -> Person:
    _check_uuid(member_id)
    person = session.get(Person, str(member_id),
                         options=[orm.joinedload(Person.subscriptions)])
    if person is None:
        raise NotFound("No such member.", code="member_not_found")
    return person


def _check_numbers_free(session: DbSession, numbers: list[str], owner: str | None) -> None:
    taken = session.scalars(
        sa.select(Subscription).where(Subscription.registration_number.in_(numbers))
    ).all()
    clash = [s.registration_number for s in taken if s.person_id != owner]
    if clash:
        raise Conflict(f"Registration number {clash[0]} belongs to another member.",
                       code="registration_number_taken")


def create_member(tx: UnitOfWork, data: Any) -> Person:
    """The fund registers a person; `auth.member_created` carries the identity."""
    fields = _load(MemberSchema(), data)
    subscriptions = fields.pop("subscriptions")
    _check_numbers_free(tx.session, [s["registration_number"] for s in subscriptions], None)
    person = Person(id=str(uuid.uuid4()), must_change_password=True, **fields)
    if person.email_validated:
        person.email_validated_at = now()
    person.subscriptions = [Subscription(**s) for s in subscriptions]
    tx.session.add(person)
    tx.session.flush()
    tx.emit("auth.member_created", member_id=person.id, data=identity(person))
    tx.audit("member.created", member_id=person.id)
    return person


def update_member(tx: UnitOfWork, member_id: str, data: Any) -> Person:
    fields = _load(MemberSchema(), data, partial=True)
    person = get_person(tx.session, member_id)
    subscriptions = fields.pop("subscriptions", None)
    if subscriptions is not None:
        _check_numbers_free(tx.session, [s["registration_number"] for s in subscriptions],
                            person.id)
        person.subscriptions = [Subscription(**s) for s in subscriptions]
    newly_validated = fields.get("email_validated") and not person.email_validated
    for name, value in fields.items():
        setattr(person, name, value)
    if newly_validated:
        person.email_validated_at = now()
    if person.email_validated and not person.email:
        raise ValidationFailed.of([FieldError("email_validated", "invalid",
                                              "A validated e-mail needs an address.")])
    person.updated_at = now()
    tx.session.flush()
    tx.emit("auth.member_updated", member_id=person.id, data=identity(person))
    tx.audit("member.updated", member_id=person.id, details={"fields": sorted(fields)})
    return person


def set_language(tx: UnitOfWork, member_id: str, language: Any) -> Person:
    if language not in ("fr", "en"):
        raise ValidationFailed.of([FieldError("language", "not_allowed", "fr or en.")])
    person = get_person(tx.session, member_id)
    if person.language != language:
        person.language = language
        person.updated_at = now()
        tx.session.flush()
        tx.emit("auth.member_updated", member_id=person.id, data=identity(person))
        tx.audit("language.changed", member_id=person.id, details={"language": language})
    return person


def facts(person: Person) -> PersonalFacts:
    return PersonalFacts(
        first_name=person.first_name,
        last_name=person.last_name,
        registration_numbers=tuple(s.registration_number for s in person.subscriptions),
        birth_date=person.birth_date,
    )


def password_errors(person: Person, password: Any, field: str) -> list[dict[str, str]]:
    if not isinstance(password, str):
        return [FieldError(field, "invalid", "Expected a string.")]
    return [FieldError(field, v.code, v.detail) for v in check_password(password, facts(person))]


def check_new_password(session: DbSession, password: Any,
                       member_id: str | None = None) -> list[dict[str, str]]:
    """Every member rule `password` breaks, as field errors on `password`: with the
    member's own facts (names, numbers, birth date) when the caller is logged in."""
    if member_id is not None:
        return password_errors(get_person(session, member_id), password, "password")
    if not isinstance(password, str):
        return [FieldError("password", "invalid", "Expected a string.")]
    return [FieldError("password", v.code, v.detail) for v in check_password(password)]


def set_credentials(tx: UnitOfWork, hashing: PasswordHashing, member_id: str,
                    data: Any) -> Person:
    """The fund sets a password: an initial one to change, or one migrated from the
    old personal space (`must_change_password: false`)."""
    try:
        fields = CredentialsSchema().load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise ValidationFailed.of(marshmallow_errors(exc.messages)) from None
    person = get_person(tx.session, member_id)
    errors = password_errors(person, fields["password"], "password")
    if errors:
        raise ValidationFailed.of(errors, "The password does not follow the rules.")
    person.password_hash = hashing.hash(fields["password"])
    person.must_change_password = fields["must_change_password"]
    person.password_changed_at = now()
    sessions.end_member_sessions(tx, person.id, "credentials_reset")
    sessions.clear_person_lock(tx, person)
    tx.audit("credentials.set", member_id=person.id,
             details={"must_change_password": person.must_change_password})
    return person


def login(tx: UnitOfWork, hashing: PasswordHashing, tokens: sessions.TokenSettings,
          lockout: sessions.LockoutPolicy, raw_identifier: Any, password: Any,
          client: str) -> dict[str, Any] | None:
    """Check the identifier and password and open a session.

    Always as many password checks as the identifier's form allows candidates, so the
    answer's timing says nothing about which accounts exist. Failures count per
    identifier, known or not, so a lock says nothing either.
    """
    try:
        ident = parse_identifier(raw_identifier)
    except IdentifierError as exc:
        raise ServiceError(exc.detail, code=exc.code, status=400,
                           extra={"errors": [FieldError("identifier", exc.code, exc.detail)]},
                           ) from None
    keys = sessions.lockout_keys(ident)
    until = sessions.locked_until(tx.session, keys)
    if until:
        raise sessions.locked_error(until)
    if not isinstance(password, str) or not password or len(password) > 128:
        password = ""
    people = tx.session.scalars(
        sa.select(Person)
        .join(Subscription)
        .where(Subscription.registration_number.in_(ident.candidates),
               Person.birth_date == ident.birth_date)
        .order_by(Subscription.registration_number)
    ).unique().all()
    slots: list[Person | None] = list(people)[: len(ident.candidates)]
    slots += [None] * (len(ident.candidates) - len(slots))
    matches = [p for p in slots if hashing.verify(p.password_hash if p else None, password)]
    if len({p.id for p in matches}) == 1:
        sessions.clear_failures(tx, keys)
        return sessions.member_login(tx, tokens, matches[0], client, "password")
    if len(matches) > 1:
        log.warning("ambiguous_identifier_matched_twice")
    if sessions.record_failure(tx, keys, lockout):
        for person in people:
            tx.emit("auth.login_locked", member_id=person.id,
                    data={"until": (sessions.now() + dt.timedelta(
                        seconds=lockout.seconds)).isoformat()})
        tx.refuse_after_commit(sessions.locked_error(
            sessions.now() + dt.timedelta(seconds=lockout.seconds)))
        return None
    tx.refuse_after_commit(Unauthorized("The identifier or the password is incorrect.",
                                        code="invalid_credentials"))
    return None


def change_password(tx: UnitOfWork, hashing: PasswordHashing, tokens: sessions.TokenSettings,
                    member_id: str, session_id: str | None, current: Any,
                    new: Any) -> dict[str, Any]:
    """Check the current password, apply the rules, store the new hash, and hand back
    fresh tokens for the calling session."""
    person = get_person(tx.session, member_id)
    if not isinstance(current, str) or not hashing.verify(person.password_hash, current):
        raise ValidationFailed.of(
            [FieldError("current_password", "password_incorrect",
                        "The current password is incorrect.")],
            "The current password is incorrect.",
        )
    errors = password_errors(person, new, "new_password")
    if not errors and new == current:
        errors.append(FieldError("new_password", "password_unchanged",
                                 "The new password must differ from the current one."))
    if errors:
        raise ValidationFailed.of(errors, "The new password does not follow the rules.")
    sess = sessions.active_session(tx.session, session_id, person.id)
    person.password_hash = hashing.hash(new)
    person.must_change_password = False
    person.password_changed_at = now()
    # the new password is taken into account at once: every other session ends
    sessions.end_member_sessions(tx, person.id, "password_changed", keep=sess.id)
    sessions.forget_refresh_tokens(tx, sess)
    tx.session.flush()
    tx.emit("auth.password_changed", member_id=person.id,
            data={"session_id": sess.id, "at": person.password_changed_at.isoformat(),
                  "method": "change"})
    tx.audit("password.changed", member_id=person.id)
    return sessions.issue_tokens(tx, tokens, sess, sessions.member_claims(person, sess))


def list_members(session: DbSession, cursor: str | None, limit: int) -> dict[str, Any]:
    """People page by page (ordered by id), for services catching up."""
    errors = []
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        errors.append(FieldError("limit", "invalid", "A whole number from 1 to 1000."))
    if cursor is not None:
        cursor = parse_uuid(cursor)
        if cursor is None:
            errors.append(FieldError("cursor", "invalid", "Not a cursor this listing gave."))
    if errors:
        raise ValidationFailed.of(errors)
    query = sa.select(Person).order_by(Person.id).limit(limit + 1)
    if cursor:
        query = query.where(Person.id > cursor)
    people = session.scalars(query).all()
    page = people[:limit]
    return {
        "items": [identity(p) for p in page],
        "next_cursor": page[-1].id if len(people) > limit else None,
    }


def find_by_registration_number(session: DbSession, number: str) -> Person:
    person = session.scalars(
        sa.select(Person).join(Subscription).where(Subscription.registration_number == number)
    ).first()
    if person is None:
        raise NotFound("No member holds that registration number.", code="member_not_found")
    return person


def delete_member(tx: UnitOfWork, member_id: str) -> None:
    """Erase a person (where the law allows): identity, subscriptions and sessions.

    The audit lines stay (they are the fund's legal record) and `auth.member_deleted`
    tells every service to erase its copy.
    """
    person = get_person(tx.session, member_id)
    sessions.end_member_sessions(tx, person.id, "member_deleted")
    tx.session.flush()
    tx.session.delete(person)
    tx.emit("auth.member_deleted", member_id=member_id, data={"member_id": member_id})
    tx.audit("member.deleted", member_id=member_id)


def export_member_data(session: DbSession, member_id: str) -> dict[str, Any]:
    """Everything auth holds on one member (right of access), secrets excluded."""
    from services.kit.tables import audit_log

    person = get_person(session, member_id)
    sessions = session.scalars(
        sa.select(Session).where(Session.person_id == person.id).order_by(Session.created_at)
    ).all()
    audit = session.execute(
        sa.select(audit_log).where(audit_log.c.member_id == person.id).order_by(audit_log.c.at)
    ).mappings().all()
    return {
        "service": "auth",
        "identity": identity(person),
        "account": {
            "must_change_password": person.must_change_password,
            "password_changed_at": _iso(person.password_changed_at),
            "last_login_at": _iso(person.last_login_at),
            "last_login_method": person.last_login_method,
            "previous_login_at": _iso(person.previous_login_at),
            "previous_login_method": person.previous_login_method,
            "created_at": _iso(person.created_at),
        },
        "mconnect_identities": [
            {"issuer": m.issuer, "subject": m.subject, "linked_at": _iso(m.linked_at)}
            for m in session.scalars(sa.select(MConnectIdentity).where(
                MConnectIdentity.person_id == person.id))
        ],
        "sessions": [
            {"session_id": s.id, "client": s.client, "method": s.method,
             "created_at": _iso(s.created_at), "ended_at": _iso(s.ended_at)}
            for s in sessions
        ],
        "audit": [
            {"at": _iso(a["at"]), "actor_type": a["actor_type"], "actor_id": a["actor_id"],
             "action": a["action"], "details": a["details"]}
            for a in audit
        ],
    }
