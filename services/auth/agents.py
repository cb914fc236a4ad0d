"""The fund's staff: accounts with roles and their own password policy, kept by
supervisors (create, disable, enable, reset a second factor). Logging in is
`agent_login`; the factor itself is `factor`."""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.auth import sessions
from services.auth.hashing import PasswordHashing
from services.auth.models import Agent, AgentEnrolment, AgentRecoveryCode
from services.auth.passwords import AGENT_POLICY, PersonalFacts, check_password
from services.kit.db import UnitOfWork
from services.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from services.kit.roles import ROLES

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")


def agent_view(agent: Agent) -> dict[str, Any]:
    return {"agent_id": agent.id, "username": agent.username,
            "display_name": agent.display_name, "roles": list(agent.roles),
            "active": agent.active, "factor_enrolled": agent.otp_secret is not None,
            "last_login_at": sessions.iso(agent.last_login_at)}


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
    tx.session.flush()
    tx.audit("agent.created", member_id=None,
             details={"agent_id": agent.id, "username": username, "roles": agent.roles})
    return agent


def delete_agent(tx: UnitOfWork, username: str) -> None:
    agent = tx.session.scalar(sa.select(Agent).where(Agent.username == username))
    if agent is None:
        raise NotFound("No such agent.", code="agent_not_found")
    sessions.end_agent_sessions(tx, agent.id, "agent_deleted")
    tx.session.flush()
    tx.session.delete(agent)
    tx.audit("agent.deleted", member_id=None, details={"username": username})


def get_agent(session: DbSession, agent_id: Any, lock: bool = False) -> Agent:
    try:
        key = str(uuid.UUID(str(agent_id)))
    except ValueError:
        key = None
    query = sa.select(Agent).where(Agent.id == key)
    agent = session.scalar(query.with_for_update() if lock else query) if key else None
    if agent is None:
        raise NotFound("No such agent.", code="agent_not_found")
    return agent


def list_agents(session: DbSession) -> dict[str, Any]:
    rows = session.scalars(sa.select(Agent).order_by(Agent.username)).all()
    return {"items": [agent_view(a) for a in rows]}


def set_active(tx: UnitOfWork, agent_id: Any, active: bool) -> Agent:
    """Disable (every session ends at once) or enable an agent's account; a supervisor
    does not disable their own."""
    agent = get_agent(tx.session, agent_id, lock=True)
    if not active and tx.context.actor_type == "agent" and tx.context.actor_id == agent.id:
        raise Conflict("You cannot disable your own account.", code="own_account")
    if agent.active != active:
        agent.active = active
        if not active:
            sessions.end_agent_sessions(tx, agent.id, "agent_disabled")
        tx.audit("agent.enabled" if active else "agent.disabled", member_id=None,
                 details={"agent_id": agent.id, "username": agent.username})
    return agent


def clear_factor(tx: UnitOfWork, agent: Agent) -> None:
    agent.otp_secret, agent.otp_enabled_at, agent.otp_last_step = None, None, None
    tx.session.execute(sa.delete(AgentRecoveryCode).where(
        AgentRecoveryCode.agent_id == agent.id))
    tx.session.execute(sa.delete(AgentEnrolment).where(AgentEnrolment.agent_id == agent.id))


def reset_factor(tx: UnitOfWork, agent_id: Any) -> Agent:
    """A lost device: the factor and recovery codes go, the agent's sessions end, and
    the next password login asks for a new enrolment."""
    agent = get_agent(tx.session, agent_id, lock=True)
    clear_factor(tx, agent)
    sessions.end_agent_sessions(tx, agent.id, "factor_reset")
    tx.audit("agent.factor_reset", member_id=None,
             details={"agent_id": agent.id, "username": agent.username})
    return agent
