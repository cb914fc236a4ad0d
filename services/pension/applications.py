"""pension's request types in the registry of online requests (docs/requests.md): their
parameters (checked, and published as JSON Schema), and what an application still needs
before it can be submitted. The career statement's result is in `statement.py`."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session as DbSession

from services.kit import clock
from services.kit.errors import FieldError, marshmallow_errors
from services.pension import simulator
from services.pension.career import member_and_periods, schemes_of
from services.pension.models import Member

_DOCUMENTS = json.loads(
    (Path(__file__).parent / "data" / "required_documents.json").read_text())
REQUIRED_DOCUMENTS: dict[str, list[str]] = _DOCUMENTS["schemes"]
SURVIVOR_DOCUMENTS: list[str] = _DOCUMENTS["survivor_pension"]
CAREER_STATEMENT, RETIREMENT_PENSION, SURVIVOR_PENSION = (
    "career_statement", "retirement_pension", "survivor_pension")
REQUEST_TYPES = (CAREER_STATEMENT, RETIREMENT_PENSION, SURVIVOR_PENSION)
REGISTRATION_NUMBER = re.compile(r"^[0-9]{4,6}$")
ORPHANS_ON_PAPER = (
    "An orphan's pension is applied for on paper, at the fund's desk or by post (Caisses "
    "Sociales de Monaco, 11 rue Louis Notari, Monaco): the online application is for a "
    "widow or widower.")


class ApplicationParams(Schema):
    class Meta:
        unknown = RAISE

    retirement_date = fields.Date(load_default=None, allow_none=True,
                                  validate=simulator.retirement_date_check)
    stopped_all_activity = fields.Boolean(load_default=None, allow_none=True)
    children = fields.List(fields.Nested(simulator.ChildSchema), load_default=list,
                           validate=validate.Length(max=simulator.MAX_CHILDREN))
    incapacity = fields.Boolean(load_default=False)


class SurvivorParams(Schema):
    """A widow(er)'s application: the member who died, named by registration number."""

    class Meta:
        unknown = RAISE

    deceased_registration_number = fields.String(
        load_default=None, allow_none=True,
        validate=validate.Regexp(REGISTRATION_NUMBER, error="4 to 6 digits."),
        metadata={"description": "the registration number of the member who died"})
    date_of_death = fields.Date(load_default=None, allow_none=True)
    relationship = fields.String(
        load_default="spouse", validate=validate.OneOf(["spouse", "orphan"]),
        metadata={"description": "`spouse` (widow or widower); `orphan` is refused: an "
                                 "orphan's pension is applied for on paper"})


class NoParams(Schema):
    class Meta:
        unknown = RAISE


PARAMS_SCHEMAS: dict[str, type[Schema]] = {
    CAREER_STATEMENT: NoParams, RETIREMENT_PENSION: ApplicationParams,
    SURVIVOR_PENSION: SurvivorParams}


def validate_params(request_type: str, params: Any) -> list[dict[str, str]]:
    if request_type == CAREER_STATEMENT:
        return [] if not params else [FieldError("params", "unknown_field",
                                                 "A career statement takes no parameters.")]
    schema = SurvivorParams() if request_type == SURVIVOR_PENSION else ApplicationParams()
    try:
        loaded = schema.load(params or {})
    except ValidationError as exc:
        return marshmallow_errors(exc.messages, "params")
    if request_type == SURVIVOR_PENSION:
        return _survivor_errors(loaded)
    return []


def _survivor_errors(p: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    if p["relationship"] == "orphan":
        errors.append(FieldError("params.relationship", "on_paper_only", ORPHANS_ON_PAPER))
    if p["date_of_death"] is not None and p["date_of_death"] > clock.today():
        errors.append(FieldError("params.date_of_death", "in_future",
                                 "The date of death is in the future."))
    return errors


@cache
def params_schema(request_type: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a type's `params`, converted from the marshmallow
    schema that checks them (apispec's marshmallow plugin); nested schemas go to `$defs`."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    schema = PARAMS_SCHEMAS.get(request_type)
    if schema is None:
        return {"type": "object"}
    plugin = MarshmallowPlugin()
    spec = APISpec(title="pension", version="1", openapi_version="3.1.0", plugins=[plugin])
    out = plugin.converter.schema2jsonschema(schema)
    defs = spec.to_dict().get("components", {}).get("schemas", {})
    text = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema",
                       "title": f"{request_type} params", **out,
                       "additionalProperties": False,
                       **({"$defs": defs} if defs else {})})
    return json.loads(text.replace('"#/components/schemas/', '"#/$defs/'))


def check_submission(session: DbSession, member_id: str, request_type: str, params: Any,
                     attachments: list[dict[str, Any]], today: dt.date | None = None
                     ) -> list[str]:
    """What is still missing before an application can be submitted."""
    if request_type == SURVIVOR_PENSION:
        return _survivor_missing(session, member_id, params, attachments)
    if request_type != RETIREMENT_PENSION:
        return []
    today = today or clock.today()
    member, periods = member_and_periods(session, member_id)
    missing: list[str] = []
    try:
        p = ApplicationParams().load(params or {})
    except ValidationError as exc:  # a draft saved before validate_params checked as much
        return [f"valid parameters ({e['field']}: {e['detail']})"
                for e in marshmallow_errors(exc.messages, "params")]
    children = [simulator.Child(c["birth_date"], c["years_raised_before_16"])
                for c in p["children"]]
    schemes = [s for s in schemes_of(periods) if s != "CMRC" or any(
        x.end >= simulator.cmrc_start() for x in periods if x.kind == "employee")]
    if not schemes:
        return ["a recorded career (no period of activity is known)"]
    opens, starts = [], []
    for scheme in schemes:
        earliest = simulator.earliest_date(scheme, member.birth_date, member.sex,
                                       children, p["incapacity"], on=today)
        opens.append((earliest.request_opens or earliest.date, scheme))
        starts.append((earliest.date, scheme))
    first_open, scheme = min(opens)
    if today < first_open:
        missing.append(f"the application opens on {first_open:%d/%m/%Y} ({scheme})")
    if p["retirement_date"] is None:
        missing.append("the date you want your pension to start (params.retirement_date)")
    else:
        start = simulator.normalise_retirement_date(p["retirement_date"])  # pensions start on a 1st
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


def _survivor_missing(session: DbSession, member_id: str, params: Any,
                      attachments: list[dict[str, Any]]) -> list[str]:
    try:
        p = SurvivorParams().load(params or {})
    except ValidationError as exc:
        return [f"valid parameters ({e['field']}: {e['detail']})"
                for e in marshmallow_errors(exc.messages, "params")]
    missing = [e["detail"] for e in _survivor_errors(p)]
    number = p["deceased_registration_number"]
    member = session.get(Member, member_id)
    own = {str(s.get("registration_number")) for s in (member.subscriptions if member else [])}
    if number is None:
        missing.append("the registration number of the member who died "
                       "(params.deceased_registration_number)")
    elif number in own:
        missing.append("the registration number of the member who died, not yours "
                       "(params.deceased_registration_number)")
    if p["date_of_death"] is None:
        missing.append("the date of death (params.date_of_death)")
    have = {a.get("category") for a in attachments}
    missing += [f"a document of category {c}" for c in SURVIVOR_DOCUMENTS if c not in have]
    return missing
