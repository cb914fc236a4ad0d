"""The simulator's inputs: the public simulator's body and the member's assumptions,
checked with stable error codes by their public schemas (services.contracts.simulation),
and turned into `SimulationInputs`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from marshmallow import ValidationError

from services.contracts.simulation import (  # noqa: F401  (the simulator's callers find them here)
    AnonymousSimulationSchema,
    CareerPeriodSchema,
    ChildSchema,
    MemberAssumptionsSchema,
    retirement_date_check,
)
from services.kit import clock
from services.kit.errors import marshmallow_errors
from services.pension.simulator.calendar import Child, Period
from services.pension.simulator.projection import FutureAssumptions, SimulationInputs
from services.pension.simulator.recorded import RecordedCareer


def field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten marshmallow's nested messages into [{field, code, detail}] ("career.1.end"),
    with the simulator's codes (the kit's flattening, `_code_for` below)."""
    return marshmallow_errors(messages, prefix, _code_for)


def _code_for(message: str) -> str:
    lowered = message.lower()
    if "missing data" in lowered:
        return "required"
    if "unknown field" in lowered:
        return "unknown_field"
    if "not a valid date" in lowered:
        return "invalid_date"
    if "may not be null" in lowered:
        return "null"
    if "length" in lowered or "longer" in lowered:
        return "too_many"
    return "invalid"


def _future(data: Mapping[str, Any]) -> FutureAssumptions:
    return FutureAssumptions(
        monthly_gross_salary=data.get("future_monthly_gross_salary"),
        contribution_class=data.get("future_class"),
        yearly_salary_growth=data.get("yearly_salary_growth"),
        stop_date=data.get("stop_date"),
    )


def _children(data: Mapping[str, Any]) -> tuple[Child, ...]:
    return tuple(Child(c["birth_date"], c["years_raised_before_16"])
                 for c in data.get("children") or [])


def validate_inputs(raw: Any, today: date | None = None
                    ) -> tuple[SimulationInputs | None, list[dict[str, str]]]:
    """The anonymous simulator's body -> (inputs, []) or (None, [{field, code, detail}])."""
    today = today or clock.today()
    if not isinstance(raw, Mapping):
        return None, [{"field": "body", "code": "invalid", "detail": "Expected a JSON object."}]
    try:
        data = AnonymousSimulationSchema(today=today).load(raw)
    except ValidationError as exc:
        return None, field_errors(exc.messages)
    career = tuple(
        Period(p["kind"], p["start"], p["end"], p.get("monthly_gross_salary"),
               p.get("contribution_class"), "declared")
        for p in data["career"]
    )
    return SimulationInputs(
        date_of_birth=data["date_of_birth"], sex=data["sex"], career=career,
        retirement_age=data.get("retirement_age"), retirement_date=data.get("retirement_date"),
        children=_children(data), incapacity=data["incapacity"], future=_future(data),
        today=today,
    ), []


def validate_member_inputs(raw: Any, *, date_of_birth: date, sex: str,
                           career: Iterable[Period | Mapping[str, Any]] = (),
                           today: date | None = None,
                           recorded: RecordedCareer | None = None
                           ) -> tuple[SimulationInputs | None, list[dict[str, str]]]:
    """The logged-in variant: assumptions from the body, identity and the recorded career
    from the fund (periods given as Period or dicts; origin defaults to "recorded"), with
    the fund's recorded figures (`recorded`; none recorded when not given)."""
    today = today or clock.today()
    if not isinstance(raw, Mapping):
        return None, [{"field": "body", "code": "invalid", "detail": "Expected a JSON object."}]
    try:
        data = MemberAssumptionsSchema(today=today, date_of_birth=date_of_birth).load(raw)
    except ValidationError as exc:
        return None, field_errors(exc.messages)
    periods = tuple(
        p if isinstance(p, Period) else Period.of({"origin": "recorded", **p}) for p in career
    )
    return SimulationInputs(
        date_of_birth=date_of_birth, sex=sex, career=periods,
        retirement_age=data.get("retirement_age"), retirement_date=data.get("retirement_date"),
        children=_children(data), incapacity=data["incapacity"], future=_future(data),
        today=today, recorded=recorded or RecordedCareer(),
    ), []
