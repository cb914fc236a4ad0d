"""benefits' tables: the members copy, profiles, beneficiaries, cards, FSE codes and
their look-ups, care sheets, refunds and payments with the registration numbers they
are fed by, the feed files imported, and the wallet passes with the devices following
them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Member(Base):
    """Read-only copy of the identity auth owns."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    sex: Mapped[str] = mapped_column(sa.String(1))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_validated: Mapped[bool] = mapped_column(sa.Boolean)
    language: Mapped[str] = mapped_column(sa.String(2))
    subscriptions: Mapped[list] = mapped_column(JSONB)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class Profile(Base):
    """What benefits owns of a member's personal data."""

    __tablename__ = "profiles"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    address_line1: Mapped[str | None] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    mail_channel: Mapped[str] = mapped_column(sa.String(10), default="email")
    bank_account_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    forward_to_insurer: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    insurer_name: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class Beneficiary(Base):
    """A person covered through the member (spouse, child), fed by the fund."""

    __tablename__ = "beneficiaries"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # the fund's id
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), index=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    relationship: Mapped[str] = mapped_column(sa.String(20))


class Card(Base):
    """A registration card: one in force per registration number; a renewal revokes
    the previous one, whose QR payload the status check then reports as revoked."""

    __tablename__ = "cards"

    id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)  # = jti
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), index=True)
    registration_number: Mapped[str] = mapped_column(sa.String(6))
    fund: Mapped[str] = mapped_column(sa.String(10))
    rights_status: Mapped[str] = mapped_column(sa.String(10))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_until: Mapped[dt.date] = mapped_column(sa.Date)
    issued_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class FseCode(Base):
    """The code giving access to the member's electronic care sheets: kept encrypted
    (it must be shown again) and findable by a keyed digest (practitioners' look-ups)."""

    __tablename__ = "fse_codes"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    code_encrypted: Mapped[str] = mapped_column(sa.Text)
    lookup: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class CareSheet(Base):
    """An electronic care sheet (FSE), fed by the fund; idempotent on its id."""

    __tablename__ = "care_sheets"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # the fund's id
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False))
    beneficiary_id: Mapped[str | None] = mapped_column(sa.String(64))
    care_date: Mapped[dt.date] = mapped_column(sa.Date)
    practitioner: Mapped[str] = mapped_column(sa.String(200))
    acts: Mapped[list] = mapped_column(JSONB)
    amount_charged: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    amount_refunded: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    refund_status: Mapped[str] = mapped_column(sa.String(20))


class MemberNumber(Base):
    """Registration number -> member, kept with the identity copy (feeds name members
    by their number)."""

    __tablename__ = "member_numbers"

    registration_number: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), index=True)


class Refund(Base):
    """A health-care refund, fed by the fund; idempotent on the fund's record id."""

    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False))
    beneficiary_id: Mapped[str | None] = mapped_column(sa.String(64))
    care_date: Mapped[dt.date] = mapped_column(sa.Date)
    practitioner: Mapped[str] = mapped_column(sa.String(200))
    act: Mapped[str] = mapped_column(sa.String(200))
    amount_charged: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    refund_base: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    amount_refunded: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    refund_date: Mapped[dt.date] = mapped_column(sa.Date)
    paid_to: Mapped[str] = mapped_column(sa.String(10))
    currency: Mapped[str] = mapped_column(sa.String(3))
    first_seen_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True),
                                                      default=_now)


class Payment(Base):
    """A benefit payment (family allowance, daily allowance, pension, ...)."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False))
    payment_type: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str | None] = mapped_column(sa.String(200))
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    payment_date: Mapped[dt.date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(sa.String(3))
    first_seen_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True),
                                                      default=_now)


class FeedImport(Base):
    """One imported feed file: importing the same file again changes nothing."""

    __tablename__ = "feed_imports"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    object_key: Mapped[str] = mapped_column(sa.String(300))
    imported_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True),
                                                     default=_now)
    good_rows: Mapped[int] = mapped_column(sa.Integer)
    bad_rows: Mapped[int] = mapped_column(sa.Integer)
    report_key: Mapped[str] = mapped_column(sa.String(300))


class FseLookup(Base):
    """One attempt of a practitioner's system to resolve an FSE code, kept a minute: the
    per-caller limit, shared by every instance of the service."""

    __tablename__ = "fse_lookups"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    caller: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


sa.Index("ix_fse_lookups_caller_at", FseLookup.caller, FseLookup.at)
class PassRegistration(Base):
    """A device that added the card's Apple Wallet pass and asked to hear of its updates
    (Apple's web service protocol)."""

    __tablename__ = "pass_registrations"

    device_library_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    pass_type_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    push_token: Mapped[str] = mapped_column(sa.String(200))
    registered_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True),
                                                       default=_now)


class WalletPass(Base):
    """When a pass's content last changed: a fingerprint of what it shows, compared when
    a device asks, moves `updated_at` (the web service's Last-Modified and tags)."""

    __tablename__ = "wallet_passes"

    serial: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


# The listings read a member's page from these alone (migration 0003 says why).
sa.Index("ix_refunds_listing", Refund.member_id, Refund.refund_date.desc(), Refund.id.desc(),
         postgresql_include=["care_date", "beneficiary_id", "practitioner", "act",
                             "amount_charged", "refund_base", "amount_refunded", "paid_to",
                             "currency"])
sa.Index("ix_payments_listing", Payment.member_id, Payment.payment_date.desc(),
         Payment.id.desc(),
         postgresql_include=["payment_type", "label", "period_start", "period_end", "amount",
                             "currency"])
sa.Index("ix_cards_number_live", Card.registration_number,
         postgresql_where=Card.revoked_at.is_(None))
sa.Index("ix_care_sheets_member_date", CareSheet.member_id, CareSheet.care_date.desc())
