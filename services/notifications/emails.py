"""E-mails: queued in the same transaction as what causes them, sent with retries.

Each message's state is kept (queued, sent, failed with its reason); the body of a
message that carries a token is erased once sent: only its metadata remains.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DbSession

from services.kit.logging import get_logger
from services.notifications.models import Email
from services.notifications.rendering import Renderer
from services.notifications.smtp_client import (
    MailSession,
    RenderedEmail,
    SendError,
    SmtpSettings,
    backoff_seconds,
)

log = get_logger(__name__)
MAX_ATTEMPTS = 8
TOKEN_KINDS = frozenset({"email_verification", "password_reset_request"})


def queue(session: DbSession, renderer: Renderer, *, to: str, member_id: str | None,
          kind: str, language: str, params: dict[str, Any]) -> Email:
    rendered = renderer.email(kind, language, params)
    email = Email(id=str(uuid.uuid4()), member_id=member_id, to_address=to, kind=kind,
                  language=language, subject=rendered.subject, body_text=rendered.text,
                  body_html=rendered.html, carries_token=kind in TOKEN_KINDS,
                  state="queued", attempts=0, next_attempt_at=dt.datetime.now(dt.UTC),
                  created_at=dt.datetime.now(dt.UTC))
    session.add(email)
    return email


def deliver_due(engine: Engine, smtp: SmtpSettings, batch: int = 50,
                max_batches: int = 10) -> int:
    """Send what is due, over one SMTP connection; safe on several instances (rows are
    locked, others skipped). Each batch is its own transaction, so what was sent is
    recorded as sent batch by batch; a full batch is followed by the next one, up to
    `max_batches` a call (the timer calls again a second later). When the server cannot
    be reached, the message that found out keeps its retry and the others are left as
    they are, for the next tick: they do not each wait for a connection and spend an
    attempt."""
    done = 0
    with MailSession(smtp) as mail_session:
        for _ in range(max_batches):
            with DbSession(engine) as session, session.begin():
                due = session.scalars(
                    sa.select(Email).where(Email.state == "queued",
                                           Email.next_attempt_at <= sa.func.now())
                    .order_by(Email.next_attempt_at).limit(batch)
                    .with_for_update(skip_locked=True)).all()
                for email in due:
                    done += 1
                    if not _deliver(email, mail_session):
                        return done
            if len(due) < batch:
                break
    return done


def _deliver(email: Email, mail_session: MailSession) -> bool:
    """False when the server could not be reached (stop the tick)."""
    email.attempts += 1
    try:
        email.message_id = mail_session.send(email.to_address, RenderedEmail(
            email.subject, email.body_text or "", email.body_html or ""))
    except SendError as exc:
        email.last_error = str(exc)[:500]
        if exc.permanent or email.attempts >= MAX_ATTEMPTS:
            email.state, email.next_attempt_at = "failed", None
            if email.carries_token:  # a link nobody received must not linger either
                email.body_text = email.body_html = None
            log.warning("email_failed", email_id=email.id, kind=email.kind,
                        attempts=email.attempts)
        else:
            email.next_attempt_at = dt.datetime.now(dt.UTC) + dt.timedelta(
                seconds=backoff_seconds(email.attempts))
        return not exc.unreachable
    email.state, email.sent_at, email.next_attempt_at = "sent", dt.datetime.now(dt.UTC), None
    email.last_error = None
    if email.carries_token:
        email.body_text = email.body_html = None
    log.info("email_sent", email_id=email.id, kind=email.kind)
    return True
