"""The fund's staff: accounts with roles, their own password policy, agent tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from typing import Any

import sqlalchemy as sa

from services.auth import sessions
from services.auth.hashing import PasswordHashing
from services.auth.models import Agent
from services.auth.passwords import AGENT_POLICY, PersonalFacts, check_password
from services.kit.db import UnitOfWork
from services.kit.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed

ROLES = ("agent", "supervisor")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")


def agent_view(agent: Agent) -> dict[str, Any]:
    return {"agent_id": agent.id, "username": agent.username,
            "display_name": agent.display_name, "roles": list(agent.roles),
            "active": agent.active}


def _validate(username: Any, display_name: Any, roles: Any, password: Any) -> list[dict]:
    errors = []
    if not isinstance(username, str) or not USERNAME.match(username):
        errors.append(FieldError("username", "invalid",
                                 "3 to 64 lower-case letters, digits, dots, dashes."))
    if not isinstance(display_name, str) or not 1 <= len(display_name) <= 200:
        errors.append(FieldError("display_name", "invalid", "1 to 200 characters."))
    if (not isinstance(roles, list) or not roles
            or any(r not in ROLES for r in roles)):
        errors.append(FieldError("roles", "not_allowed", f"One or more of: {', '.join(ROLES)}."))
    if not isinstance(password, str):
        errors.append(FieldError("password", "invalid", "Expected a string."))
    else:
        facts = PersonalFacts(username=username if isinstance(username, str) else "",
                              first_name=display_name.split()[0]
                              if isinstance(display_name, str) and display_name.split() else "")
        errors += [FieldError("password", v.code, v.detail)
                   for v in check_password(password, facts, AGENT_POLICY)]
    return errors


def create_agent(tx: UnitOfWork, hashing: PasswordHashing, username: Any, display_name: Any,
                 roles: Any, password: Any) -> Agent:
    errors = _validate(username, display_name, roles, password)
    if errors:
        raise ValidationFailed.of(errors)
    if tx.session.scalar(sa.select(Agent.id).where(Agent.username == username)):
        raise Conflict("That username is taken.", code="username_taken")
    agent = Agent(id=str(uuid.uuid4()), username=username, display_name=display_name,
                  roles=list(dict.fromkeys(roles)), password_hash=hashing.hash(password))
    tx.session.add(agent)
    tx.audit("agent.created", member_id=None, details={"username": username})
    return agent


def delete_agent(tx: UnitOfWork, username: str) -> None:
    agent = tx.session.scalar(sa.select(Agent).where(Agent.username == username))
    if agent is None:
        raise NotFound("No such agent.", code="agent_not_found")
    sessions.end_agent_sessions(tx, agent.id, "agent_deleted")
    tx.session.flush()
    tx.session.delete(agent)
    tx.audit("agent.deleted", member_id=None, details={"username": username})


def _lock_key(username: str) -> str:
    return "a:" + hashlib.sha256(username.lower().encode()).hexdigest()[:32]


def login(tx: UnitOfWork, hashing: PasswordHashing, tokens: sessions.TokenSettings,
          lockout: sessions.LockoutPolicy, username: Any,
          password: Any) -> dict[str, Any] | None:
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64:
        username, password = "", ""
    keys = [_lock_key(username)]
    until = sessions.locked_until(tx.session, keys)
    if until:
        raise sessions.locked_error(until)
    agent = tx.session.scalar(sa.select(Agent).where(Agent.username == username.lower()))
    ok = hashing.verify(agent.password_hash if agent else None, password)
    if ok and agent is not None and agent.active:
        sessions.clear_failures(tx, keys)
        sess = sessions.open_session(tx, tokens, client="desk", method="password",
                                     agent_id=agent.id)
        agent.last_login_at = sessions.now()
        tx.audit("agent.logged_in", member_id=None, details={"username": agent.username})
        return {**sessions.issue_tokens(tx, tokens, sess, sessions.agent_claims(tx.session,
                                                                                agent.id)),
                "agent": agent_view(agent)}
    locked = sessions.record_failure(tx, keys, lockout)
    tx.refuse_after_commit(
        sessions.locked_error(sessions.now() + dt.timedelta(seconds=lockout.seconds))
        if locked else
        Unauthorized("The username or the password is incorrect.", code="invalid_credentials"))
    return None
