"""Auth's tables: people, their subscriptions and their sessions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
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


class Session(Base):
    """A login: one per device sign-in, refreshed until it ends."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        sa.Uuid(as_uuid=False), sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    client: Mapped[str] = mapped_column(sa.String(10))
    method: Mapped[str] = mapped_column(sa.String(20))
    refresh_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(sa.String(30))


sa.Index("ix_persons_birth_date", Person.birth_date)
