"""How an agent logs in: password and second factor, the first enrolment of the
factor, and growing delays after failures.

A wrong password and a missing or wrong code get one answer (`invalid_credentials`).
An agent without a factor who gives the right password gets `otp_enrolment_required`
with a token valid ten minutes: `enrol` shows the new secret and ten recovery codes,
`confirm` with a first code activates them and opens the session. Failures are
answered at once but the next attempt for that username waits a growing delay
(never a lock: the right credentials always pass once the delay is over). Every
login, failure, enrolment and factor change is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session as DbSession

from services.auth import factor, sessions
from services.auth.agents import agent_view, clear_factor
from services.auth.hashing import PasswordHashing
from services.auth.models import Agent, AgentEnrolment, AgentRecoveryCode, LoginFailure
from services.auth.tokens import digest
from services.kit.db import UnitOfWork
from services.kit.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized

ENROLMENT_MINUTES = 10
FREE_FAILURES = 3  # failures before the first delay
MAX_DELAY_SECONDS = 60  # at most 60 failed attempts an hour per username (ASVS 2.2.1)


@dataclass(frozen=True)
class FactorSettings:
    box: factor.FactorBox
    allow_development_secret: bool = False


def invalid_credentials() -> Unauthorized:
    return Unauthorized("The username, the password or the code is incorrect.",
                        code="invalid_credentials")


def invalid_enrolment() -> Unauthorized:
    return Unauthorized("The enrolment token is not valid or has expired; log in again.",
                        code="invalid_enrolment_token")


# -- growing delays -----------------------------------------------------------------------

def delay_after(failures: int) -> int:
    """Seconds the next attempt waits after `failures` consecutive failures."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_FAILURES))


def throttle_key(username: str) -> str:
    return "s:" + hashlib.sha256(username.lower().encode()).hexdigest()[:32]


def throttled_for(session: DbSession, key: str) -> int:
    """Seconds before this username may try again (0: now)."""
    row = session.get(LoginFailure, key)
    if row is None or row.locked_until is None:
        return 0
    return max(0, int((row.locked_until - sessions.now()).total_seconds() + 0.999))


def record_failure(tx: UnitOfWork, key: str) -> int:
    """Count a failure and set when the next attempt may come; returns the delay."""
    at = sessions.now()
    table = LoginFailure.__table__
    failures = tx.session.execute(
        pg_insert(table).values(key=key, failures=1, last_failed_at=at, locked_until=None)
        .on_conflict_do_update(index_elements=[table.c.key],
                               set_={"failures": table.c.failures + 1, "last_failed_at": at})
        .returning(table.c.failures)).scalar_one()
    delay = delay_after(failures)
    if delay:
        tx.session.execute(sa.update(table).where(table.c.key == key).values(
            locked_until=at + dt.timedelta(seconds=delay)))
    return delay


def throttled(seconds: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed attempts for this username: wait before trying again.",
        code="login_throttled", extra={"retry_after": str(max(1, seconds))})


# -- login ----------------------------------------------------------------------------------

def login(tx: UnitOfWork, hashing: PasswordHashing, tokens: sessions.TokenSettings,
          settings: FactorSettings, username: Any, password: Any,
          otp: Any) -> dict[str, Any] | None:
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64:
        username, password = "", ""
    username = username.lower()
    key = throttle_key(username)
    wait = throttled_for(tx.session, key)
    if wait:
        raise throttled(wait)
    agent = tx.session.scalar(sa.select(Agent).where(Agent.username == username)
                              .with_for_update())
    password_ok = hashing.verify(agent.password_hash if agent else None, password)
    if agent is not None and password_ok and agent.active:
        if agent.otp_secret is None:
            sessions.clear_failures(tx, [key])
            tx.refuse_after_commit(_enrolment_required(tx, agent))
            return None
        method = _second_factor(tx, settings, agent, otp)
        if method in ("otp", "recovery_code"):
            sessions.clear_failures(tx, [key])
            return _open(tx, tokens, agent, method)
        reason = method or "second_factor"
    else:
        reason = ("unknown_username" if agent is None else
                  "password" if not password_ok else "disabled")
    delay = record_failure(tx, key)
    details: dict[str, Any] = {"reason": reason, "next_attempt_delay": delay}
    if agent is not None:  # an unknown name may be a password typed in the wrong box
        details.update(agent_id=agent.id, username=agent.username)
    tx.audit("agent.login_failed", member_id=None, details=details)
    tx.refuse_after_commit(invalid_credentials())
    return None


def _second_factor(tx: UnitOfWork, settings: FactorSettings, agent: Agent,
                   otp: Any) -> str | None:
    """`otp` or `recovery_code` when the factor passes; `code_reused` or None when not."""
    secret = settings.box.open(agent.otp_secret or "")
    if secret is None or (secret == factor.DEVELOPMENT_SECRET
                          and not settings.allow_development_secret):
        return None
    if factor.is_code(otp):
        step = factor.matching_step(secret, otp)
        if step is None:
            return None
        if agent.otp_last_step is not None and step <= agent.otp_last_step:
            return "code_reused"  # refused like a wrong code; the audit tells them apart
        agent.otp_last_step = step
        return "otp"
    if factor.is_recovery_code(otp):
        row = tx.session.scalar(sa.select(AgentRecoveryCode).where(
            AgentRecoveryCode.code_hash == factor.recovery_digest(otp),
            AgentRecoveryCode.agent_id == agent.id,
            AgentRecoveryCode.used_at.is_(None)).with_for_update())
        if row is None:
            return None
        row.used_at = sessions.now()
        tx.session.flush()
        left = tx.session.scalar(sa.select(sa.func.count()).where(
            AgentRecoveryCode.agent_id == agent.id, AgentRecoveryCode.used_at.is_(None)))
        tx.audit("agent.recovery_code_used", member_id=None,
                 details={"agent_id": agent.id, "username": agent.username,
                          "codes_left": int(left or 0)})
        return "recovery_code"
    return None


def _open(tx: UnitOfWork, tokens: sessions.TokenSettings, agent: Agent,
          method: str) -> dict[str, Any]:
    sess = sessions.open_session(tx, tokens, client="desk", method=method, agent_id=agent.id)
    agent.last_login_at = sessions.now()
    tx.audit("agent.logged_in", member_id=None,
             details={"agent_id": agent.id, "username": agent.username, "method": method,
                      "session_id": sess.id})
    return {**sessions.issue_tokens(tx, tokens, sess,
                                    sessions.agent_claims(tx.session, agent.id)),
            "agent": agent_view(agent)}


# -- enrolment ------------------------------------------------------------------------------

def _enrolment_required(tx: UnitOfWork, agent: Agent) -> Forbidden:
    tx.session.execute(sa.delete(AgentEnrolment).where(AgentEnrolment.agent_id == agent.id))
    token = secrets.token_urlsafe(32)
    tx.session.add(AgentEnrolment(
        token_hash=digest(token), agent_id=agent.id,
        expires_at=sessions.now() + dt.timedelta(minutes=ENROLMENT_MINUTES)))
    tx.audit("agent.enrolment_started", member_id=None,
             details={"agent_id": agent.id, "username": agent.username})
    return Forbidden("Set up your second factor before logging in.",
                     code="otp_enrolment_required",
                     extra={"enrolment_token": token,
                            "expires_in": ENROLMENT_MINUTES * 60})


def _enrolment(tx: UnitOfWork, token: Any) -> tuple[AgentEnrolment, Agent]:
    if not isinstance(token, str) or not token or len(token) > 200:
        raise invalid_enrolment()
    row = tx.session.scalar(sa.select(AgentEnrolment).where(
        AgentEnrolment.token_hash == digest(token)).with_for_update())
    if row is None or row.used_at is not None or row.expires_at <= sessions.now():
        raise invalid_enrolment()
    agent = tx.session.scalar(sa.select(Agent).where(Agent.id == row.agent_id)
                              .with_for_update())
    if agent is None or not agent.active or agent.otp_secret is not None:
        raise invalid_enrolment()
    return row, agent


def enrol(tx: UnitOfWork, settings: FactorSettings, token: Any) -> dict[str, Any]:
    """A new secret and ten recovery codes, pending until `confirm` (asking again
    replaces them)."""
    row, agent = _enrolment(tx, token)
    secret = factor.new_secret()
    codes = factor.new_recovery_codes()
    row.otp_secret = settings.box.seal(secret)
    row.recovery_code_hashes = [factor.recovery_digest(c) for c in codes]
    uri = factor.otpauth_uri(secret, agent.username)
    tx.audit("agent.enrolment_secret_issued", member_id=None,
             details={"agent_id": agent.id, "username": agent.username})
    return {"otpauth_uri": uri, "qr_png_base64": factor.qr_png_base64(uri),
            "recovery_codes": codes,
            "expires_in": max(1, int((row.expires_at - sessions.now()).total_seconds()))}


def confirm(tx: UnitOfWork, tokens: sessions.TokenSettings, settings: FactorSettings,
            token: Any, otp: Any) -> dict[str, Any] | None:
    """A first code from the new secret activates it and opens the session."""
    row, agent = _enrolment(tx, token)
    secret = settings.box.open(row.otp_secret) if row.otp_secret else None
    if secret is None:
        raise Conflict("Ask for the secret (otp/enrol) before confirming it.",
                       code="enrolment_not_started")
    step = factor.accepted_step(secret, otp, None)
    if step is None:
        tx.audit("agent.enrolment_code_refused", member_id=None,
                 details={"agent_id": agent.id, "username": agent.username})
        tx.refuse_after_commit(Unauthorized("The code does not match the new secret.",
                                            code="invalid_otp"))
        return None
    sealed, hashes = row.otp_secret, list(row.recovery_code_hashes or [])
    clear_factor(tx, agent)  # drops this enrolment row too
    agent.otp_secret, agent.otp_enabled_at, agent.otp_last_step = (
        sealed, sessions.now(), step)
    for code_hash in hashes:
        tx.session.add(AgentRecoveryCode(code_hash=code_hash, agent_id=agent.id))
    tx.audit("agent.factor_enrolled", member_id=None,
             details={"agent_id": agent.id, "username": agent.username})
    return _open(tx, tokens, agent, "enrolment")


def enrol_development_factor(tx: UnitOfWork, settings: FactorSettings,
                             username: str) -> dict[str, Any]:
    """`make run`: the demo agent gets the documented development secret. Refused
    unless AUTH_DEVELOPMENT_FACTOR is on (never in production)."""
    if not settings.allow_development_secret:
        raise Forbidden("The development secret is refused here.", code="development_only")
    agent = tx.session.scalar(sa.select(Agent).where(Agent.username == username)
                              .with_for_update())
    if agent is None:
        raise NotFound("No such agent.", code="agent_not_found")
    clear_factor(tx, agent)
    agent.otp_secret = settings.box.seal(factor.DEVELOPMENT_SECRET)
    agent.otp_enabled_at = sessions.now()
    tx.audit("agent.factor_enrolled", member_id=None,
             details={"agent_id": agent.id, "username": agent.username,
                      "development_secret": True})
    return agent_view(agent)
