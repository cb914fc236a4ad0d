"""notifications' tables: its copy of members, alerts, preferences, e-mails, push."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CATEGORIES = ("requests", "payments", "documents", "security", "account")


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Member(Base):
    """Read-only copy of what auth owns, fed by auth's events."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    language: Mapped[str] = mapped_column(sa.String(2))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_validated: Mapped[bool] = mapped_column(sa.Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False))
    category: Mapped[str] = mapped_column(sa.String(20))
    kind: Mapped[str] = mapped_column(sa.String(50))
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    resource_type: Mapped[str | None] = mapped_column(sa.String(50))
    resource_id: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    read_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # for a request's alert: the move it tells of (its time, and member | agent | system)
    moved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    moved_by: Mapped[str | None] = mapped_column(sa.String(20))


class Preference(Base):
    __tablename__ = "preferences"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(sa.Boolean)


class Email(Base):
    """An e-mail to send, and then the record that it was (or why it was not)."""

    __tablename__ = "emails"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    member_id: Mapped[str | None] = mapped_column(sa.Uuid(as_uuid=False))
    to_address: Mapped[str] = mapped_column(sa.String(254))
    kind: Mapped[str] = mapped_column(sa.String(50))
    language: Mapped[str] = mapped_column(sa.String(2))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    carries_token: Mapped[bool] = mapped_column(sa.Boolean)
    state: Mapped[str] = mapped_column(sa.String(10))  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    message_id: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class PushMessage(Base):
    """What the push channel sent, or would have sent while no provider is configured."""

    __tablename__ = "push_messages"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False))
    alert_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False))
    title: Mapped[str] = mapped_column(sa.String(300))
    state: Mapped[str] = mapped_column(sa.String(20))  # not_configured | sent
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


sa.Index("ix_alerts_member_created", Alert.member_id, Alert.created_at.desc(), Alert.id)
sa.Index("ix_emails_member", Email.member_id)
sa.Index("ix_alerts_member_unread", Alert.member_id, postgresql_where=Alert.read_at.is_(None))
sa.Index("ix_emails_due", Email.next_attempt_at, postgresql_where=Email.state == "queued")
