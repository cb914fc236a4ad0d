"""The member's own view of their sessions: list them, end one, end all others.

A session is one sign-in (a browser, the mobile app). "Last used" is when its newest
refresh token was issued (at login and at each refresh), so no write happens on the
hot path of ordinary requests. Ending goes through `sessions.end_sessions`, which
announces `auth.sessions_ended`: every gateway refuses the session's access tokens at
once, and its refresh tokens are refused by auth.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.auth.models import RefreshToken, Session
from services.auth.sessions import _find_session, end_member_sessions, end_sessions, iso, now
from services.kit.db import UnitOfWork
from services.kit.errors import NotFound


def list_active(session: DbSession, member_id: str, current_session_id: str | None
                ) -> list[dict[str, Any]]:
    """The member's sessions still alive, the most recently used first."""
    last_used = (sa.select(sa.func.max(RefreshToken.issued_at))
                 .where(RefreshToken.session_id == Session.id).scalar_subquery())
    rows = session.execute(
        sa.select(Session, last_used.label("last_used_at"))
        .where(Session.person_id == member_id, Session.ended_at.is_(None),
               Session.expires_at > now())
    ).all()
    items = [{
        "session_id": s.id,
        "started_at": iso(s.created_at),
        "last_used_at": iso(used or s.created_at),
        "expires_at": iso(s.expires_at),
        "client": s.client,
        "method": s.method,
        "current": s.id == current_session_id,
    } for s, used in rows]
    current = [i for i in items if i["current"]]
    others = sorted((i for i in items if not i["current"]),
                    key=lambda item: item["last_used_at"], reverse=True)
    return current + others


def end_one(tx: UnitOfWork, member_id: str, session_id: Any) -> dict[str, Any]:
    """End one of the member's own sessions (this one included); another member's
    session, or one already ended, is `404 session_not_found`: nothing tells them apart."""
    sess = _find_session(tx.session, session_id)
    if sess is None or sess.person_id != member_id or sess.ended_at is not None:
        raise NotFound("No such active session.", code="session_not_found")
    end_sessions(tx, [sess], "ended_by_member")
    return {"ended": [sess.id]}


def end_others(tx: UnitOfWork, member_id: str, current_session_id: str) -> dict[str, Any]:
    """End every session of the member but the calling one."""
    ended = end_member_sessions(tx, member_id, "ended_by_member", keep=current_session_id)
    return {"ended": ended}
