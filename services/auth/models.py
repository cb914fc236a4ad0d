"""Auth's tables: people, their subscriptions and their sessions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Person(Base):
    """A member: one person, whatever number of subscriptions they hold."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    sex: Mapped[str] = mapped_column(sa.String(1))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_validated: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    email_validated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    language: Mapped[str] = mapped_column(sa.String(2), default="fr")
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_login_method: Mapped[str | None] = mapped_column(sa.String(20))
    previous_login_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    previous_login_method: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=_now, onupdate=_now
    )

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin",
        order_by="Subscription.registration_number",
    )


class Subscription(Base):
    """Membership of one fund under one registration number."""

    __tablename__ = "subscriptions"

    registration_number: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    fund: Mapped[str] = mapped_column(sa.String(10))

    person: Mapped[Person] = relationship(back_populates="subscriptions")


class Agent(Base):
    """A member of the fund's staff."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(sa.String(30)))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # the second factor: a TOTP secret sealed under auth's factor key, and the last
    # time step accepted (a code is refused at or before it: no reuse in its window)
    otp_secret: Mapped[str | None] = mapped_column(sa.String(300))
    otp_enabled_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    otp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)


class AgentRecoveryCode(Base):
    """One of an agent's single-use recovery codes, stored as a digest."""

    __tablename__ = "agent_recovery_codes"

    code_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class AgentEnrolment(Base):
    """A factor being set up: the token a password login gave, then the pending secret
    and recovery codes until a first code confirms them."""

    __tablename__ = "agent_enrolments"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    otp_secret: Mapped[str | None] = mapped_column(sa.String(300))
    recovery_code_hashes: Mapped[list[str] | None] = mapped_column(ARRAY(sa.String(64)))
    used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Session(Base):
    """A sign-in of a member or an agent, kept alive by rotating refresh tokens."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    person_id: Mapped[str | None] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[str | None] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("agents.id", ondelete="CASCADE")
    )
    client: Mapped[str] = mapped_column(sa.String(10))
    method: Mapped[str] = mapped_column(sa.String(20))
    csrf_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(sa.String(30))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def principal_id(self) -> str:
        return self.person_id or self.agent_id or ""


class RefreshToken(Base):
    """Every refresh token a session was given; a spent one used again ends the session."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    spent_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class LoginFailure(Base):
    """Consecutive failed logins for one identifier, kept only while the lockout needs it."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer)
    last_failed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class MConnectFlow(Base):
    """An MConnect login under way: single use, short-lived."""

    __tablename__ = "mconnect_flows"

    state_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(100))
    code_verifier: Mapped[str] = mapped_column(sa.String(200))
    client: Mapped[str] = mapped_column(sa.String(10))
    binding_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class MConnectIdentity(Base):
    """A digital identity linked to a person on its first use."""

    __tablename__ = "mconnect_identities"

    issuer: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("persons.id", ondelete="CASCADE"))
    linked_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class MobileLoginCode(Base):
    """One-time code the mobile app exchanges for tokens after an MConnect login."""

    __tablename__ = "mobile_login_codes"

    code_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("persons.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class EmailToken(Base):
    """A link sent to a new address: following it validates that address."""

    __tablename__ = "email_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ResetToken(Base):
    """A forgotten-password link: single use, short-lived, voided by a newer one."""

    __tablename__ = "reset_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    voided_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


sa.Index("ix_persons_birth_date", Person.birth_date)
sa.Index("ix_sessions_ended_at", Session.ended_at)  # the purge of ended sessions
