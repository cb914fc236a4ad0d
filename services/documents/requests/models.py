"""The registry's tables: one row per request of any type, and its history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.documents.base import Base, utc_now


class Request(Base):
    """One online request of any type; its status moves only through `lifecycle.move`."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), index=True)
    type: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    params: Mapped[dict] = mapped_column(JSONB)
    attachments: Mapped[list] = mapped_column(JSONB, default=list)
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    result_key: Mapped[str | None] = mapped_column(sa.String(300))
    result_content_type: Mapped[str | None] = mapped_column(sa.String(100))
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    verification_code: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utc_now)
    completed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class HistoryEntry(Base):
    """A request's history: every transition, who, when, from, to, note."""

    __tablename__ = "request_history"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), index=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utc_now)
    actor_type: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[str | None] = mapped_column(sa.String(100))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.String(2000))


sa.Index("ix_requests_member_created", Request.member_id, Request.created_at.desc())
sa.Index("ix_requests_status", Request.status, Request.created_at)
