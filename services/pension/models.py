"""pension's tables: the members copy and the career the fund's systems feed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Member(Base):
    """Read-only copy of auth's identity (birth date and sex drive the rules)."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    sex: Mapped[str] = mapped_column(sa.String(1))
    language: Mapped[str] = mapped_column(sa.String(2))
    subscriptions: Mapped[list] = mapped_column(JSONB)


class CareerPeriod(Base):
    """A period of activity: employee (CAR, and CMRC from 2024) or self-employed
    (CARTI); idempotent on the fund's id."""

    __tablename__ = "career_periods"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # employee | self_employed
    employer: Mapped[str | None] = mapped_column(sa.String(200))
    start: Mapped[dt.date] = mapped_column(sa.Date)
    end: Mapped[dt.date] = mapped_column(sa.Date)
    monthly_gross_salary: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    contribution_class: Mapped[int | None] = mapped_column(sa.Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True),
                                                     server_default=sa.func.now())


class CareerYear(Base):
    """The points the fund recorded for a member, a scheme and a year (CAR: the financial
    year "2023/2024"; CMRC and CARTI: "2024"), with the salaries (CAR, CMRC) or the class
    and whether the contributions were paid (CARTI); idempotent on the three."""

    __tablename__ = "career_years"

    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), primary_key=True)
    scheme: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    year: Mapped[str] = mapped_column(sa.String(9), primary_key=True)
    points: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    salaries: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    contribution_class: Mapped[int | None] = mapped_column(sa.Integer)
    contributions_paid: Mapped[bool | None] = mapped_column(sa.Boolean)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True),
                                                     server_default=sa.func.now())


class AssimilatedPeriod(Base):
    """A compensated interruption (sickness, maternity, unemployment, military service,
    invalidity) and the points the fund credited for it; idempotent on the fund's id."""

    __tablename__ = "assimilated_periods"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.Uuid(as_uuid=False), index=True)
    scheme: Mapped[str] = mapped_column(sa.String(5))
    reason: Mapped[str] = mapped_column(sa.String(20))
    start: Mapped[dt.date] = mapped_column(sa.Date)
    end: Mapped[dt.date] = mapped_column(sa.Date)
    points: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True),
                                                     server_default=sa.func.now())
