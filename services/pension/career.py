"""The career the fund feeds, what the member sees of it, the certified statement,
and the online application's rules (the registry's hooks for pension's types)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session as DbSession

from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ValidationFailed, marshmallow_errors
from services.pension import rules
from services.pension.models import CareerPeriod, Member

REQUIRED_DOCUMENTS = json.loads(
    (Path(__file__).parent / "data" / "required_documents.json").read_text())["schemes"]
MONACO = ZoneInfo("Europe/Monaco")


def monaco_today() -> dt.date:
    """Business dates are Monaco's (docs/api-conventions.md)."""
    return dt.datetime.now(MONACO).date()


SCHEMES_OF_KIND = {"employee": ("CAR", "CMRC"), "self_employed": ("CARTI",)}


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


def upsert_periods(tx: UnitOfWork, periods: Any) -> int:
    if not isinstance(periods, list) or not 1 <= len(periods) <= 2000:
        raise ValidationFailed.of([FieldError("periods", "invalid", "1 to 2000 periods.")])
    try:
        loaded = PeriodRecord(many=True).load(periods)
    except ValidationError as exc:
        raise ValidationFailed.of(marshmallow_errors(exc.messages, "periods")) from None
    for row in loaded:
        row["member_id"] = str(row["member_id"])
        if tx.session.get(Member, row["member_id"]) is None:
            raise NotFound("No such member.", code="member_not_found")
        tx.session.execute(pg_insert(CareerPeriod).values(**row).on_conflict_do_update(
            index_elements=["id"], set_={k: v for k, v in row.items() if k != "id"}))
    tx.audit("career.fed", member_id=None, details={"count": len(loaded)})
    return len(loaded)


def _member_and_rows(session: DbSession, member_id: str
                     ) -> tuple[Member, list[CareerPeriod]]:
    """The member and their recorded periods, oldest first, in one query for the periods."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    rows = session.scalars(sa.select(CareerPeriod).where(
        CareerPeriod.member_id == member_id).order_by(CareerPeriod.start)).all()
    return member, list(rows)


def _period(row: CareerPeriod) -> rules.Period:
    return rules.Period(kind=row.kind, start=row.start, end=row.end,
                        monthly_gross_salary=row.monthly_gross_salary,
                        contribution_class=row.contribution_class, origin="recorded")


def member_and_periods(session: DbSession, member_id: str) -> tuple[Member, list[rules.Period]]:
    member, rows = _member_and_rows(session, member_id)
    return member, [_period(r) for r in rows]


def career_view(session: DbSession, member_id: str) -> dict[str, Any]:
    _member, rows = _member_and_rows(session, member_id)
    return _view(member_id, rows)


def _view(member_id: str, rows: list[CareerPeriod]) -> dict[str, Any]:
    periods = [_period(r) for r in rows]
    today = monaco_today()
    schemes = {}
    for scheme, points in (("CAR", rules.car_points(periods)),
                           ("CMRC", rules.cmrc_points(periods)),
                           ("CARTI", rules.carti_points(periods))):
        condition = rules.minimum_condition(scheme, periods, today)
        schemes[scheme] = {
            "points_by_year": {k: str(v) for k, v in points.items()},
            "total_points": str(sum(points.values(), Decimal("0"))),
            # what the scheme's minimum condition counts, as the simulator does (for
            # CMRC, per the parameters in force: every salaried month, or from 2024)
            "months_with_activity": condition.months,
            "years_with_activity": condition.years,
            "minimum_condition": {"met": condition.met, "reason": condition.reason},
        }
    return {
        "member_id": member_id,
        "periods": [{"id": r.id, "kind": r.kind, "employer": r.employer,
                     "start": r.start.isoformat(), "end": r.end.isoformat(),
                     "monthly_gross_salary": (str(r.monthly_gross_salary)
                                              if r.monthly_gross_salary is not None else None),
                     "contribution_class": r.contribution_class} for r in rows],
        "schemes": schemes,
    }


def schemes_of(periods: list[rules.Period]) -> list[str]:
    kinds = {p.kind for p in periods}
    return [s for kind in ("employee", "self_employed") if kind in kinds
            for s in SCHEMES_OF_KIND[kind]]


# -- the registry's hooks -------------------------------------------------------------------

class ApplicationParams(Schema):
    class Meta:
        unknown = RAISE

    retirement_date = fields.Date(load_default=None, allow_none=True,
                                  validate=rules.retirement_date_check)
    stopped_all_activity = fields.Boolean(load_default=None, allow_none=True)
    children = fields.List(fields.Nested(rules.ChildSchema), load_default=list,
                           validate=validate.Length(max=rules.MAX_CHILDREN))
    incapacity = fields.Boolean(load_default=False)


def validate_params(request_type: str, params: Any) -> list[dict[str, str]]:
    if request_type == "career_statement":
        return [] if not params else [FieldError("params", "unknown_field",
                                                 "A career statement takes no parameters.")]
    try:
        ApplicationParams().load(params or {})
    except ValidationError as exc:
        return marshmallow_errors(exc.messages, "params")
    return []


def check_submission(session: DbSession, member_id: str, request_type: str, params: Any,
                     attachments: list[dict[str, Any]], today: dt.date | None = None
                     ) -> list[str]:
    """What is still missing before an application can be submitted."""
    if request_type != "retirement_pension":
        return []
    today = today or monaco_today()
    member, periods = member_and_periods(session, member_id)
    missing: list[str] = []
    try:
        p = ApplicationParams().load(params or {})
    except ValidationError as exc:  # a draft saved before validate_params checked as much
        return [f"valid parameters ({e['field']}: {e['detail']})"
                for e in marshmallow_errors(exc.messages, "params")]
    children = [rules.Child(c["birth_date"], c["years_raised_before_16"])
                for c in p["children"]]
    schemes = [s for s in schemes_of(periods) if s != "CMRC" or any(
        x.end >= rules.cmrc_start() for x in periods if x.kind == "employee")]
    if not schemes:
        return ["a recorded career (no period of activity is known)"]
    opens, starts = [], []
    for scheme in schemes:
        earliest = rules.earliest_date(scheme, member.birth_date, member.sex,
                                       children, p["incapacity"], on=today)
        opens.append((earliest.request_opens or earliest.date, scheme))
        starts.append((earliest.date, scheme))
    first_open, scheme = min(opens)
    if today < first_open:
        missing.append(f"the application opens on {first_open:%d/%m/%Y} ({scheme})")
    if p["retirement_date"] is None:
        missing.append("the date you want your pension to start (params.retirement_date)")
    else:
        start = rules.normalise_retirement_date(p["retirement_date"])  # pensions start on a 1st
        first_start, scheme = min(starts)
        if start < first_start:
            missing.append(f"a start date on or after {first_start:%d/%m/%Y}, the earliest "
                           f"your pension can start ({scheme}) (params.retirement_date)")
        elif start < today.replace(day=1):
            missing.append("a start date that is not in the past (params.retirement_date)")
    if p["stopped_all_activity"] is not True:
        missing.append("your confirmation that you have stopped all activity "
                       "(params.stopped_all_activity)")
    have = {a.get("category") for a in attachments}
    for category in sorted({c for s in schemes for c in REQUIRED_DOCUMENTS.get(s, [])}):
        if category not in have:
            missing.append(f"a document of category {category}")
    return missing


def statement_document(session: DbSession, request: dict[str, Any],
                       public_base_url: str) -> tuple[bytes, str]:
    from services.kit.pdf import (
        DocumentSection,
        IssuedDocument,
        build_verification_url,
        new_verification_code,
        render_pdf_off_loop,
    )

    member, periods = _member_and_rows(session, request.get("member_id") or "")
    view = _view(member.member_id, periods)
    lang = "en" if member.language == "en" else "fr"
    code = new_verification_code()
    rows = [["Régime / Scheme", "Année / Year", "Points"]]
    for scheme, data in view["schemes"].items():
        rows += [[scheme, year, pts] for year, pts in data["points_by_year"].items()]
    document = IssuedDocument(
        title="Relevé de carrière" if lang == "fr" else "Career statement",
        holder_name=f"{member.first_name} {member.last_name.upper()}",
        sections=[DocumentSection("Totaux / Totals", rows=[
            (s, f"{d['total_points']} points, {d['months_with_activity']} mois/months")
            for s, d in view["schemes"].items()])],
        verification_code=code, verification_url=build_verification_url(public_base_url, code),
        issued_at=dt.datetime.now(dt.UTC), language=lang, table=rows)
    return render_pdf_off_loop(document), code


def export(session: DbSession, member_id: str) -> dict[str, Any]:
    try:
        return {"service": "pension", "career": career_view(session, member_id)}
    except NotFound:
        return {"service": "pension", "career": None}
