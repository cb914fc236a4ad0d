"""documents' file tables: what members sent, and the fund's forms to download.

Only the facts about a file live here (storage key, size, content type, SHA-256,
owner); the bytes are in object storage, under keys nobody can guess.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.documents.base import Base, utc_now


class Document(Base):
    """A file a member sent (a certificate, a proof of address...), checked and kept."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False))
    category: Mapped[str] = mapped_column(sa.String(40))
    filename: Mapped[str] = mapped_column(sa.String(255))  # cleaned
    content_type: Mapped[str] = mapped_column(sa.String(100))  # recognised by content
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    request_id: Mapped[str | None] = mapped_column(sa.Uuid(as_uuid=False))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utc_now)


class Form(Base):
    """A blank form the fund publishes (PDF); withdrawn forms stay, unlisted."""

    __tablename__ = "forms"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # a slug
    title_fr: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(40))
    fund: Mapped[str] = mapped_column(sa.String(10))
    updated_on: Mapped[dt.date] = mapped_column(sa.Date)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    published: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utc_now)


# the member's listing, newest first (keyset pagination on created_at, id)
sa.Index("ix_documents_member_created", Document.member_id, Document.created_at.desc(),
         Document.id.desc())
sa.Index("ix_documents_request", Document.request_id,
         postgresql_where=Document.request_id.isnot(None))
sa.Index("ix_forms_published", Form.published, Form.category)
