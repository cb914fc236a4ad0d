"""Sessions: tokens, refresh rotation with reuse detection, logout, revocation, lockout.

A session is one sign-in (member or agent). Its access tokens are short-lived JWTs
the gateway checks alone; its refresh tokens rotate at each use and are stored only
as digests, every one kept, so a spent token presented again reveals a theft and
ends the whole session. Ended sessions are announced (`auth.sessions_ended`) so every
gateway refuses their access tokens at once.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session as DbSession

from services.auth.identifiers import Identifier, candidates, registration_number_forms
from services.auth.models import (
    EmailToken,
    LoginFailure,
    MConnectFlow,
    MobileLoginCode,
    Person,
    RefreshToken,
    ResetToken,
    Session,
)
from services.auth.tokens import SigningKey, digest, issue_access_token, new_refresh_token
from services.contracts.members import CLIENTS  # public vocabulary; auth modules use it here
from services.kit.db import UnitOfWork
from services.kit.errors import Forbidden, TooManyRequests, Unauthorized, ValidationFailed
from services.kit.ids import parse_uuid

MEMBER = "member"
AGENT = "agent"


@dataclass(frozen=True)
class TokenSettings:
    key: SigningKey
    access_ttl: int
    refresh_ttl: int
    # agents: an absolute limit, and an idle one (no refresh for that long ends it)
    agent_session_ttl: int = 8 * 3600
    agent_idle_timeout: int = 30 * 60


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    seconds: int = 900


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def session_ended() -> Unauthorized:
    return Unauthorized("The session has ended; log in again.", code="session_ended")


# -- issuing --------------------------------------------------------------------------

def open_session(tx: UnitOfWork, tokens: TokenSettings, *, client: str, method: str,
                 person: Person | None = None, agent_id: str | None = None) -> Session:
    if person is not None and client not in CLIENTS:
        raise ValidationFailed.of([{"field": "client", "code": "not_allowed",
                                    "detail": "Must be one of: web, mobile."}])
    at = now()
    lifetime = tokens.agent_session_ttl if agent_id else tokens.refresh_ttl
    sess = Session(id=str(uuid.uuid4()), person_id=person.id if person else None,
                   agent_id=agent_id, client=client, method=method, created_at=at,
                   expires_at=at + dt.timedelta(seconds=lifetime), last_used_at=at)
    tx.session.add(sess)
    tx.session.flush()
    return sess


def issue_tokens(tx: UnitOfWork, tokens: TokenSettings, sess: Session,
                 claims: dict[str, Any]) -> dict[str, Any]:
    """A fresh access token and refresh token (and CSRF token for the web) for `sess`."""
    refresh, refresh_hash = new_refresh_token()
    tx.session.add(RefreshToken(token_hash=refresh_hash, session_id=sess.id, issued_at=now()))
    answer: dict[str, Any] = {}
    claims = dict(claims)
    if sess.client == "web":
        csrf = secrets.token_urlsafe(24)
        sess.csrf_hash = digest(csrf)
        claims["csh"] = sess.csrf_hash
        answer["csrf_token"] = csrf
    audience = AGENT if sess.agent_id else MEMBER
    access = issue_access_token(tokens.key, subject=sess.principal_id, session_id=sess.id,
                                client=sess.client, audience=audience,
                                ttl=tokens.access_ttl, claims=claims)
    remaining = max(1, int((sess.expires_at - now()).total_seconds()))
    answer.update({"session_id": sess.id, "access_token": access, "refresh_token": refresh,
                   "token_type": "Bearer", "expires_in": min(tokens.access_ttl, remaining),
                   "refresh_expires_in": remaining})
    return answer


def member_claims(person: Person, sess: Session) -> dict[str, Any]:
    # a session opened without a password (MConnect) is not held by a password change
    return {"pcr": bool(person.must_change_password and sess.method == "password"),
            "ev": bool(person.email_validated)}


def record_connection(person: Person, method: str) -> dt.datetime | None:
    """Keep this visit as the last connection; return the one it replaces."""
    previous = person.last_login_at
    person.previous_login_at, person.previous_login_method = (
        person.last_login_at, person.last_login_method)
    person.last_login_at, person.last_login_method = now(), method
    return previous


def forget_older_connections(tx: UnitOfWork, tokens: TokenSettings, person: Person,
                             previous: dt.datetime | None) -> int:
    """The notice keeps a connection "until my next visit": at each login, the member's
    sessions that ended before the previous visit began are removed (the previous visit
    stays, to be shown; active sessions stay while active). A session ended less than an
    access token's life ago stays too: the gateway's revocation view reads it."""
    if previous is None:
        return 0
    before = min(previous, now() - dt.timedelta(seconds=tokens.access_ttl + 60))
    return tx.session.execute(sa.delete(Session).where(
        Session.person_id == person.id, Session.ended_at.is_not(None),
        Session.ended_at < before)).rowcount


def member_login(tx: UnitOfWork, tokens: TokenSettings, person: Person, client: str,
                 method: str) -> dict[str, Any]:
    """Open a member session, record the connection and answer with tokens."""
    sess = open_session(tx, tokens, client=client, method=method, person=person)
    previous = record_connection(person, method)
    forget_older_connections(tx, tokens, person, previous)
    answer = issue_tokens(tx, tokens, sess, member_claims(person, sess))
    tx.emit("auth.member_logged_in", member_id=person.id,
            data={"session_id": sess.id, "client": client, "method": method,
                  "at": person.last_login_at.isoformat()})
    return {**answer, "member_id": person.id,
            "must_change_password": bool(person.must_change_password and method == "password"),
            "previous_login_at": iso(previous)}


# -- refresh, logout, revocation ------------------------------------------------------

def refresh(tx: UnitOfWork, tokens: TokenSettings, refresh_token: Any,
            csrf_token: str | None = None) -> dict[str, Any] | None:
    """Rotate: spend the presented token, issue the next pair.

    A spent token presented again ends the session (someone else holds it). When
    `csrf_token` is given (cookie-based refresh) it must be the session's.
    """
    if not isinstance(refresh_token, str) or not refresh_token:
        raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
    row = tx.session.execute(
        sa.select(RefreshToken).where(RefreshToken.token_hash == digest(refresh_token))
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
    sess = tx.session.execute(
        sa.select(Session).where(Session.id == row.session_id).with_for_update()
    ).scalar_one()
    if sess.ended_at is not None or sess.expires_at <= now():
        raise session_ended()
    if sess.agent_id and idle(sess, tokens):
        end_sessions(tx, [sess], "idle")
        tx.refuse_after_commit(session_ended())
        return None
    if row.spent_at is not None:
        end_sessions(tx, [sess], "refresh_token_reused")
        tx.refuse_after_commit(Unauthorized(
            "This refresh token was already used; the session has been ended for safety.",
            code="refresh_token_reused"))
        return None
    if csrf_token is not None and (not isinstance(csrf_token, str) or sess.csrf_hash is None
                                   or not secrets.compare_digest(digest(csrf_token),
                                                                 sess.csrf_hash)):
        raise Forbidden("The CSRF token does not match the session.", code="csrf_invalid")
    row.spent_at = sess.last_used_at = now()
    if sess.person_id:
        person = tx.session.get(Person, sess.person_id)
        claims = member_claims(person, sess)
    else:
        claims = agent_claims(tx.session, sess.agent_id)
    return issue_tokens(tx, tokens, sess, claims)


def idle(sess: Session, tokens: TokenSettings) -> bool:
    """An agent session not refreshed within the idle timeout."""
    last = sess.last_used_at or sess.created_at
    return now() - last > dt.timedelta(seconds=tokens.agent_idle_timeout)


def agent_claims(session: DbSession, agent_id: str) -> dict[str, Any]:
    from services.auth.models import Agent

    agent = session.get(Agent, agent_id)
    if agent is None or not agent.active:
        raise session_ended()
    return {"roles": list(agent.roles), "name": agent.display_name}


def end_sessions(tx: UnitOfWork, sessions: list[Session], reason: str) -> list[str]:
    at = now()
    ended = []
    for sess in sessions:
        if sess.ended_at is None:
            sess.ended_at, sess.end_reason = at, reason
            ended.append(sess)
    if ended:
        by_member: dict[str | None, list[str]] = {}
        for sess in ended:
            by_member.setdefault(sess.person_id, []).append(sess.id)
        for member_id, ids in by_member.items():
            tx.emit("auth.sessions_ended", member_id=member_id,
                    data={"session_ids": ids, "reason": reason, "at": at.isoformat()})
    return [s.id for s in ended]


def forget_refresh_tokens(tx: UnitOfWork, sess: Session) -> None:
    """The session's unspent refresh tokens stop working (not as a reuse: they are gone)."""
    tx.session.execute(sa.delete(RefreshToken).where(RefreshToken.session_id == sess.id,
                                                     RefreshToken.spent_at.is_(None)))


def end_agent_sessions(tx: UnitOfWork, agent_id: str, reason: str) -> list[str]:
    query = sa.select(Session).where(Session.agent_id == agent_id, Session.ended_at.is_(None))
    return end_sessions(tx, list(tx.session.scalars(query.with_for_update())), reason)


def end_member_sessions(tx: UnitOfWork, person_id: str, reason: str,
                        keep: str | None = None) -> list[str]:
    query = sa.select(Session).where(Session.person_id == person_id,
                                     Session.ended_at.is_(None))
    if keep:
        query = query.where(Session.id != keep)
    return end_sessions(tx, list(tx.session.scalars(query.with_for_update())), reason)


def _find_session(session: DbSession, session_id: Any) -> Session | None:
    """The session `session_id` names; None for anything not a UUID (the column's type)."""
    key = parse_uuid(session_id)
    return session.get(Session, key) if key else None


def logout(tx: UnitOfWork, session_id: str, principal_id: str) -> None:
    sess = _find_session(tx.session, session_id)
    if sess is None or sess.principal_id != principal_id:
        raise session_ended()
    end_sessions(tx, [sess], "logout")
    if sess.agent_id:
        tx.audit("agent.logged_out", member_id=None,
                 details={"agent_id": sess.agent_id, "session_id": sess.id})


def active_session(session: DbSession, session_id: str | None, principal_id: str) -> Session:
    sess = _find_session(session, session_id)
    if sess is None or sess.principal_id != principal_id or sess.ended_at is not None:
        raise session_ended()
    return sess


def recently_validated(session: DbSession, within_seconds: int) -> list[str]:
    """Members whose address was validated while older tokens may still be alive."""
    since = now() - dt.timedelta(seconds=within_seconds)
    return [str(i) for i in session.scalars(
        sa.select(Person.id).where(Person.email_validated_at >= since))]


def recently_ended(session: DbSession, within_seconds: int) -> list[str]:
    """Sessions whose access tokens may still be unexpired: the gateway's start-up view."""
    since = now() - dt.timedelta(seconds=within_seconds)
    return [str(i) for i in session.scalars(
        sa.select(Session.id).where(Session.ended_at >= since))]


# -- lockout --------------------------------------------------------------------------

def _keys(numbers: Iterable[str], birth_date: dt.date) -> list[str]:
    """One counter per registration number, with the birth date: the only key format."""
    return list(dict.fromkeys(f"{number}-{birth_date:%d%m%Y}" for number in numbers))


def lockout_keys(ident: Identifier) -> list[str]:
    """One counter per registration number the identifier may mean, with the birth date."""
    return _keys(ident.candidates, ident.birth_date)


def person_lockout_keys(numbers: Iterable[str], birth_date: dt.date) -> list[str]:
    """Every key a login of the holder of `numbers` can count on: the candidates of each
    form they may type (a 5-digit employee number also locks its self-employed twin)."""
    return _keys((number for held in numbers for form in registration_number_forms(held)
                  for number in candidates(form)), birth_date)


def locked_until(session: DbSession, keys: list[str]) -> dt.datetime | None:
    rows = session.scalars(sa.select(LoginFailure).where(LoginFailure.key.in_(keys))).all()
    until = [r.locked_until for r in rows if r.locked_until and r.locked_until > now()]
    return max(until) if until else None


def record_failure(tx: UnitOfWork, keys: list[str], policy: LockoutPolicy) -> bool:
    """Count one failure on every key; True when this failure locks them.

    One upsert per key, so two first failures at once both count (no duplicate row).
    Reaching the threshold sets the lock and restarts the count at 0, which is how
    the returned row tells that this failure locked.
    """
    at = now()
    until = at + dt.timedelta(seconds=policy.seconds)
    table = LoginFailure.__table__
    first_locks = policy.threshold <= 1
    count = table.c.failures + 1
    reached = count >= policy.threshold
    locked = False
    for key in keys:
        statement = pg_insert(table).values(
            key=key, failures=0 if first_locks else 1, last_failed_at=at,
            locked_until=until if first_locks else None,
        ).on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"failures": sa.case((reached, 0), else_=count),
                  "last_failed_at": at,
                  "locked_until": sa.case((reached, until), else_=table.c.locked_until)},
        ).returning(table.c.failures == 0)
        if tx.session.execute(statement).scalar_one():
            locked = True
    return locked


def clear_failures(tx: UnitOfWork, keys: list[str]) -> None:
    tx.session.execute(sa.delete(LoginFailure).where(LoginFailure.key.in_(keys)))


def clear_person_lock(tx: UnitOfWork, person: Person) -> None:
    """A new password (a reset, or one the fund sets) ends a lock, under every form of
    every identifier of the person."""
    clear_failures(tx, person_lockout_keys(
        (sub.registration_number for sub in person.subscriptions), person.birth_date))


def locked_error(until: dt.datetime) -> TooManyRequests:
    seconds = max(1, int((until - now()).total_seconds()))
    return TooManyRequests(
        "Too many failed attempts: logging in with this identifier is paused. "
        "Try again later, or reset your password.",
        code="login_locked", extra={"retry_after": str(seconds)})


def purge(session: DbSession, policy: LockoutPolicy, retention_days: int = 730) -> None:
    """Scheduled clean-up: stale counters, old sessions and connections, spent flows."""
    at = now()
    horizon = at - dt.timedelta(days=retention_days)
    session.execute(sa.delete(LoginFailure).where(
        sa.or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until < at),
        LoginFailure.last_failed_at < at - dt.timedelta(seconds=policy.seconds)))
    session.execute(sa.delete(Session).where(
        sa.or_(Session.ended_at < horizon, Session.expires_at < horizon)))
    session.execute(sa.update(Person).where(Person.previous_login_at < horizon)
                    .values(previous_login_at=None, previous_login_method=None))
    session.execute(sa.update(Person).where(Person.last_login_at < horizon)
                    .values(last_login_at=None, last_login_method=None))
    session.execute(sa.delete(MConnectFlow).where(
        MConnectFlow.created_at < at - dt.timedelta(hours=1)))
    session.execute(sa.delete(MobileLoginCode).where(MobileLoginCode.expires_at < at))
    week_ago = at - dt.timedelta(days=7)
    session.execute(sa.delete(EmailToken).where(EmailToken.expires_at < week_ago))
    session.execute(sa.delete(ResetToken).where(ResetToken.expires_at < week_ago))
