"""E-mails that carry a link with a token (e-mail verification, password reset): direct
commands from auth, never events, since every subscriber reads events. Sent even while
notifications' copy of the member has not caught up (then in French, without a name)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session as DbSession

from services.notifications import alerts, emails
from services.notifications.rendering import Renderer


def email_verification(session: DbSession, renderer: Renderer, member_id: object, email: str,
                       token: str, expires_hours: int) -> None:
    _queue(session, renderer, member_id, email, "email_verification",
           {"expires_hours": expires_hours,
            "verify_url": renderer.link("/email/verify", token)})


def password_reset(session: DbSession, renderer: Renderer, member_id: object, email: str,
                   token: str, expires_minutes: int) -> None:
    """`email` is the validated address auth holds (the copy here may lag)."""
    _queue(session, renderer, member_id, email, "password_reset_request",
           {"expires_minutes": expires_minutes,
            "reset_url": renderer.link("/password/reset", token)})


def _queue(session: DbSession, renderer: Renderer, member_id: object, email: str, kind: str,
           params: dict[str, Any]) -> None:
    who = alerts.addressee(session, alerts.check_member_id(member_id))
    emails.queue(session, renderer, to=email, member_id=who.member_id, kind=kind,
                 language=who.language, params={"first_name": who.first_name, **params})
