"""The career the fund feeds (periods, recorded points per year, assimilated periods) and
what the member sees of it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session as DbSession

from services.kit import clock
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ValidationFailed, marshmallow_errors
from services.pension import simulator
from services.pension.models import AssimilatedPeriod, CareerPeriod, CareerYear, Member
from services.pension.simulator.recorded import (
    ASSIMILATED_REASONS,
    RecordedCareer,
    RecordedYear,
    recorded_career,
    with_recorded,
    year_label_error,
)

SCHEMES_OF_KIND = {"employee": ("CAR", "CMRC"), "self_employed": ("CARTI",)}
MAX_BATCH = 2000
MAX_POINTS = 100_000


class PeriodRecord(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(1, 64))
    member_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["employee",
                                                                 "self_employed"]))
    employer = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=200))
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    monthly_gross_salary = fields.Decimal(load_default=None, allow_none=True, places=2,
                                          validate=validate.Range(min=0, max=10**7))
    contribution_class = fields.Integer(load_default=None, allow_none=True,
                                        validate=validate.Range(1, 4))

    @validates_schema
    def _coherent(self, data: dict, **_: Any) -> None:
        if data["end"] < data["start"]:
            raise ValidationError("Ends before it starts.", "end")
        if data["kind"] == "employee" and data.get("monthly_gross_salary") is None:
            raise ValidationError("Employee periods carry a salary.", "monthly_gross_salary")
        if data["kind"] == "self_employed" and data.get("contribution_class") is None:
            raise ValidationError("Self-employed periods carry a class.",
                                  "contribution_class")


class YearRecord(Schema):
    """The points the fund recorded for a member, a scheme and a year."""

    class Meta:
        unknown = RAISE

    member_id = fields.UUID(required=True)
    scheme = fields.String(required=True, validate=validate.OneOf(simulator.SCHEMES))
    year = fields.String(required=True, validate=validate.Length(4, 9))
    points = fields.Decimal(required=True, places=2,
                            validate=validate.Range(min=0, max=MAX_POINTS))
    salaries = fields.Decimal(load_default=None, allow_none=True, places=2,
                              validate=validate.Range(min=0, max=10**9))
    contribution_class = fields.Integer(load_default=None, allow_none=True, strict=True,
                                        validate=validate.Range(1, 4))
    contributions_paid = fields.Boolean(load_default=None, allow_none=True)

    @validates_schema
    def _coherent(self, data: dict, **_: Any) -> None:
        scheme = data["scheme"]
        errors: dict[str, str] = {}
        wrong = year_label_error(scheme, data["year"], simulator.cmrc_start())
        if wrong:
            errors["year"] = wrong
        carti = ("contribution_class", "contributions_paid")
        if scheme == "CARTI":
            for name in carti:
                if data.get(name) is None:
                    errors[name] = ("A CARTI year carries its class and whether its "
                                    "contributions were paid.")
            if data.get("salaries") is not None:
                errors["salaries"] = "Only a CAR or CMRC year carries salaries."
        else:
            if data.get("salaries") is None:
                errors["salaries"] = f"A {scheme} year carries the year's salaries."
            for name in carti:
                if data.get(name) is not None:
                    errors[name] = "Only a CARTI year carries a class."
        if errors:
            raise ValidationError({k: [v] for k, v in errors.items()})


class AssimilatedRecord(Schema):
    """A compensated interruption and the points the fund credited for it."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(1, 64))
    member_id = fields.UUID(required=True)
    scheme = fields.String(required=True, validate=validate.OneOf(simulator.SCHEMES))
    reason = fields.String(required=True, validate=validate.OneOf(ASSIMILATED_REASONS))
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    points = fields.Decimal(required=True, places=2,
                            validate=validate.Range(min=0, max=MAX_POINTS))

    @validates_schema
    def _coherent(self, data: dict, **_: Any) -> None:
        if data["end"] < data["start"]:
            raise ValidationError("Ends before it starts.", "end")


def _load_batch(schema: Schema, items: Any, name: str, *, allow_empty: bool = False
                ) -> list[dict[str, Any]]:
    low = 0 if allow_empty else 1
    if items is None and allow_empty:
        return []
    if not isinstance(items, list) or not low <= len(items) <= MAX_BATCH:
        raise ValidationFailed.of([FieldError(name, "invalid", f"{low} to {MAX_BATCH} items.")])
    try:
        loaded = schema.load(items)
    except ValidationError as exc:
        raise ValidationFailed.of(marshmallow_errors(exc.messages, name)) from None
    for row in loaded:
        row["member_id"] = str(row["member_id"])
    return loaded


def _check_members(tx: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    for member_id in {r["member_id"] for r in rows}:
        if tx.session.get(Member, member_id) is None:
            raise NotFound("No such member.", code="member_not_found")


def _upsert(tx: UnitOfWork, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    now = clock.now()
    for row in rows:
        row["recorded_at"] = now
        tx.session.execute(pg_insert(model).values(**row).on_conflict_do_update(
            index_elements=keys, set_={k: v for k, v in row.items() if k not in keys}))


def upsert_periods(tx: UnitOfWork, periods: Any) -> int:
    loaded = _load_batch(PeriodRecord(many=True), periods, "periods")
    _check_members(tx, loaded)
    _upsert(tx, CareerPeriod, loaded, ["id"])
    tx.audit("career.fed", member_id=None, details={"count": len(loaded)})
    return len(loaded)


def upsert_years(tx: UnitOfWork, years: Any, assimilated_periods: Any = None
                 ) -> dict[str, int]:
    """The fund's recorded points per member, scheme and year (idempotent on the three)
    and its assimilated periods (idempotent on `id`), in one transaction."""
    loaded = _load_batch(YearRecord(many=True), years, "years", allow_empty=True)
    assimilated = _load_batch(AssimilatedRecord(many=True), assimilated_periods,
                              "assimilated_periods", allow_empty=True)
    if not loaded and not assimilated:
        raise ValidationFailed.of([FieldError(
            "years", "invalid", "Send at least one year or one assimilated period.")])
    _check_members(tx, loaded + assimilated)
    _upsert(tx, CareerYear, loaded, ["member_id", "scheme", "year"])
    _upsert(tx, AssimilatedPeriod, assimilated, ["id"])
    counts = {"years": len(loaded), "assimilated_periods": len(assimilated)}
    tx.audit("career.fed", member_id=None, details=counts)
    return counts


# -- what is recorded, read back -------------------------------------------------------------

@dataclass
class Record:
    """Everything pension holds of a member's career."""

    member: Member
    periods: list[CareerPeriod]
    years: list[CareerYear]
    assimilated: list[AssimilatedPeriod]

    def simulator_periods(self) -> list[simulator.Period]:
        return [_period(r) for r in self.periods]

    def recorded(self) -> RecordedCareer:
        return recorded_career(
            (RecordedYear(y.scheme, y.year, y.points) for y in self.years),
            (simulator.AssimilatedPeriod(a.scheme, a.reason, a.start, a.end, a.points)
             for a in self.assimilated))

    def data_date(self) -> Any:
        """When the latest of these figures was recorded (None: nothing is)."""
        stamps = [r.recorded_at for r in (*self.periods, *self.years, *self.assimilated)
                  if r.recorded_at is not None]
        return max(stamps) if stamps else None


def read_record(session: DbSession, member_id: str) -> Record:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    periods = session.scalars(sa.select(CareerPeriod).where(
        CareerPeriod.member_id == member_id).order_by(CareerPeriod.start)).all()
    years = session.scalars(sa.select(CareerYear).where(
        CareerYear.member_id == member_id).order_by(CareerYear.scheme, CareerYear.year)).all()
    assimilated = session.scalars(sa.select(AssimilatedPeriod).where(
        AssimilatedPeriod.member_id == member_id).order_by(AssimilatedPeriod.start)).all()
    return Record(member, list(periods), list(years), list(assimilated))


def _period(row: CareerPeriod) -> simulator.Period:
    return simulator.Period(kind=row.kind, start=row.start, end=row.end,
                            monthly_gross_salary=row.monthly_gross_salary,
                            contribution_class=row.contribution_class, origin="recorded")


def member_and_periods(session: DbSession, member_id: str
                       ) -> tuple[Member, list[simulator.Period]]:
    record = read_record(session, member_id)
    return record.member, record.simulator_periods()


def career_view(session: DbSession, member_id: str) -> dict[str, Any]:
    return view(read_record(session, member_id))


def scheme_figures(record: Record) -> dict[str, tuple[simulator.Accrual,
                                                      simulator.Eligibility]]:
    """Per scheme, the points (the fund's recorded figures up to its last recorded year,
    computed and marked projected otherwise) and the minimum condition today."""
    periods = record.simulator_periods()
    recorded = record.recorded()
    today = clock.today()
    out = {}
    for scheme in simulator.SCHEMES:
        accrual = with_recorded(simulator.accrual_of(scheme, periods), recorded)
        condition = simulator.minimum_condition(
            scheme, periods, today, assimilated=recorded.condition_periods(scheme))
        out[scheme] = (accrual, condition)
    return out


def view(record: Record) -> dict[str, Any]:
    schemes = {}
    for scheme, (accrual, condition) in scheme_figures(record).items():
        schemes[scheme] = {
            "points_by_year": {k: str(v) for k, v in accrual.points_by_year.items()},
            "years": [{"year": k, "points": str(v),
                       "origin": accrual.origins.get(k, "projected")}
                      for k, v in accrual.points_by_year.items()],
            "recorded_points": str(accrual.points_of("recorded")),
            "projected_points": str(accrual.points_of("projected")),
            "assimilated_points": str(accrual.assimilated_points),
            "last_recorded_year": accrual.last_recorded_year,
            "total_points": str(sum(accrual.points_by_year.values(), Decimal("0"))
                                + accrual.assimilated_points),
            # what the scheme's minimum condition counts, as the simulator does (for
            # CMRC, per the parameters in force: every salaried month, or from 2024)
            "months_with_activity": condition.months,
            "years_with_activity": condition.years,
            "minimum_condition": {"met": condition.met, "reason": condition.reason},
        }
    return {
        "member_id": record.member.member_id,
        "periods": [{"id": r.id, "kind": r.kind, "employer": r.employer,
                     "start": r.start.isoformat(), "end": r.end.isoformat(),
                     "monthly_gross_salary": (str(r.monthly_gross_salary)
                                              if r.monthly_gross_salary is not None else None),
                     "contribution_class": r.contribution_class} for r in record.periods],
        "assimilated_periods": [{"id": a.id, "scheme": a.scheme, "reason": a.reason,
                                 "start": a.start.isoformat(), "end": a.end.isoformat(),
                                 "points": str(a.points)} for a in record.assimilated],
        "schemes": schemes,
    }


def schemes_of(periods: list[simulator.Period]) -> list[str]:
    kinds = {p.kind for p in periods}
    return [s for kind in ("employee", "self_employed") if kind in kinds
            for s in SCHEMES_OF_KIND[kind]]


def export(session: DbSession, member_id: str) -> dict[str, Any]:
    try:
        return {"service": "pension", "career": career_view(session, member_id)}
    except NotFound:
        return {"service": "pension", "career": None}
