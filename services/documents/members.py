"""documents' copy of auth's members: names, birth date, language and registration
numbers, for certificates. Kept from auth's events (`MemberCopyHandlers`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.documents.base import Base


class Member(Base):
    """Read-only copy of auth's identity (names for certificates, language)."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    language: Mapped[str] = mapped_column(sa.String(2))
    subscriptions: Mapped[list] = mapped_column(JSONB)


def copy_member(session: Session, identity: dict[str, Any]) -> None:
    """Create or refresh the copy from auth's identity."""
    member = session.get(Member, identity["member_id"]) or Member(
        member_id=identity["member_id"])
    member.first_name, member.last_name = identity["first_name"], identity["last_name"]
    member.birth_date = dt.date.fromisoformat(identity["birth_date"])
    member.language = identity.get("language") or "fr"
    member.subscriptions = identity.get("subscriptions") or []
    session.add(member)


def erase_copy(session: Session, member_id: str) -> None:
    session.execute(sa.delete(Member).where(Member.member_id == member_id))
