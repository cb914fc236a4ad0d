"""The retirement simulator's inputs: the public simulator's body and the member's
assumptions (`POST /api/v1/pension/simulations[/anonymous]`), with the calendar rules
their checks rest on. The pension service loads bodies with these schemas; the gateway
publishes them in its OpenAPI document.

Every message carries a stable `code` (`_Msg`), which the errors list keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

EMPLOYEE, SELF_EMPLOYED = "employee", "self_employed"
KINDS = (EMPLOYEE, SELF_EMPLOYED)
SEXES = ("F", "M")

# The simulator's own bounds (product choices, not regulatory figures).
MIN_RETIREMENT_AGE = 55
MAX_RETIREMENT_AGE = 75
MAX_YEARLY_SALARY_GROWTH = Decimal("0.2")
MAX_MONTHLY_SALARY = Decimal(1_000_000)
MAX_CAREER_PERIODS = 100
MAX_CHILDREN = 20
MAX_YEARS_RAISED = 16
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 1, 1)  # a retirement date after it would be out of range anyway

ZERO = Decimal(0)
MONACO = ZoneInfo("Europe/Monaco")

# --------------------------------------------------------------------------- dates


def first_of_month_after(day: date) -> date:
    """The first day of the month following `day`'s month."""
    return day.replace(day=1) + relativedelta(months=1)


def birthday(date_of_birth: date, age: int) -> date:
    """The `age`-th birthday (29 February falls on 28 February in common years)."""
    return date_of_birth + relativedelta(years=age)


def date_at_age(date_of_birth: date, age: int) -> date:
    """When a pension "at age N" starts: the 1st of the month after the N-th birthday."""
    return first_of_month_after(birthday(date_of_birth, age))


def normalise_retirement_date(day: date) -> date:
    """Pensions start on a 1st: any other day moves to the 1st of the next month."""
    return day if day.day == 1 else first_of_month_after(day)


def age_on(date_of_birth: date, day: date) -> tuple[int, int]:
    """Completed (years, months) of age on `day`."""
    gap = relativedelta(day, date_of_birth)
    return gap.years, gap.months


# --------------------------------------------------------------------------- inputs


class CodedMessage(str):
    """A validation message carrying its stable error code through marshmallow."""

    code: str

    def __new__(cls, detail: str, code: str) -> CodedMessage:
        msg = super().__new__(cls, detail)
        msg.code = code
        return msg


_Msg = CodedMessage


def _range(low: Decimal | int, high: Decimal | int | None = None, *, code: str = "out_of_range",
           detail: str | None = None) -> Any:
    def check(value: Any) -> None:
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise ValidationError(_Msg(detail or f"Must be {bounds}.", code))
    return check


_salary = _range(0, MAX_MONTHLY_SALARY, detail="A monthly gross salary is between 0 and "
                 f"{MAX_MONTHLY_SALARY}.")


def _salary_check(value: Decimal) -> None:
    if value < 0:
        raise ValidationError(_Msg("A salary cannot be negative.", "negative"))
    _salary(value)


_class_check = _range(1, 4, code="not_allowed", detail="The CARTI class is 1, 2, 3 or 4.")


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(value: str) -> None:
        if value not in choices:
            raise ValidationError(_Msg(f"Must be one of: {', '.join(choices)}.", "not_allowed"))
    return check


def _date_field(**kwargs: Any) -> fields.Date:
    return fields.Date(error_messages={"invalid": "Not a valid date (expected YYYY-MM-DD)."},
                       **kwargs)


def retirement_date_check(value: date) -> None:
    """Refuse a retirement date after LATEST_DATE: moving one of the last days of 9999 to
    the next 1st would overflow the year before any age check could answer."""
    if value > LATEST_DATE:
        raise ValidationError(_Msg("The retirement date is too far in the future.",
                                   "out_of_range"))


class ChildSchema(Schema):
    class Meta:
        unknown = RAISE

    birth_date = _date_field(required=True)
    years_raised_before_16 = fields.Integer(required=True, strict=True,
                                            validate=_range(0, MAX_YEARS_RAISED))


class CareerPeriodSchema(Schema):
    """{kind: employee, monthly_gross_salary, start, end} | {kind: self_employed, class, ...}"""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=_one_of(KINDS))
    start = _date_field(required=True)
    end = _date_field(required=True)
    monthly_gross_salary = fields.Decimal(validate=_salary_check)
    contribution_class = fields.Integer(data_key="class", strict=True, validate=_class_check)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _consistent(self, data: dict, original: Any, **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            errors["end"] = [_Msg("The period ends before it starts.", "end_before_start")]
        if start and start < EARLIEST_DATE:
            errors["start"] = [_Msg("The date is too far in the past.", "out_of_range")]
        raw = original if isinstance(original, Mapping) else {}
        kind = data.get("kind")
        if kind == EMPLOYEE:
            if "monthly_gross_salary" not in raw:
                errors["monthly_gross_salary"] = [_Msg(
                    "An employee period needs a monthly gross salary.", "required")]
            if "class" in raw:
                errors["class"] = [_Msg("Only a self-employed period has a class.", "not_allowed")]
        elif kind == SELF_EMPLOYED:
            if "class" not in raw:
                errors["class"] = [_Msg("A self-employed period needs a class (1 to 4).",
                                        "required")]
            if "monthly_gross_salary" in raw:
                errors["monthly_gross_salary"] = [_Msg(
                    "Only an employee period has a salary.", "not_allowed")]
        if errors:
            raise ValidationError(errors)


class _AssumptionFields(Schema):
    class Meta:
        unknown = RAISE

    retirement_age = fields.Integer(strict=True, validate=_range(
        MIN_RETIREMENT_AGE, MAX_RETIREMENT_AGE,
        detail=f"The retirement age must be between {MIN_RETIREMENT_AGE} and "
               f"{MAX_RETIREMENT_AGE}."))
    retirement_date = _date_field(validate=retirement_date_check)
    children = fields.List(fields.Nested(ChildSchema), load_default=list,
                           validate=validate.Length(max=MAX_CHILDREN))
    incapacity = fields.Boolean(load_default=False)
    future_monthly_gross_salary = fields.Decimal(allow_none=True, validate=_salary_check)
    future_class = fields.Integer(allow_none=True, strict=True, validate=_class_check)
    yearly_salary_growth = fields.Decimal(allow_none=True, validate=_range(
        ZERO, MAX_YEARLY_SALARY_GROWTH,
        detail=f"The yearly salary growth must be between 0 and {MAX_YEARLY_SALARY_GROWTH}."))
    stop_date = _date_field(allow_none=True)

    def __init__(self, *, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # pension passes the kit's clock; the contracts cannot import it, so without one
        # the same calendar date: today in Monaco
        self.today = today or datetime.now(MONACO).date()

    def _assumption_errors(self, data: dict, raw: Mapping[str, Any],
                           date_of_birth: date | None) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        has_age, has_date = "retirement_age" in raw, "retirement_date" in raw
        if has_age and has_date:
            errors["retirement_date"] = [_Msg(
                "Give retirement_age or retirement_date, not both.", "exclusive")]
        elif not has_age and not has_date:
            errors["retirement_age"] = [_Msg(
                "Give retirement_age or retirement_date.", "required")]
        retirement = None
        if date_of_birth is not None:
            if data.get("retirement_age") is not None and not has_date:
                retirement = date_at_age(date_of_birth, data["retirement_age"])
            elif data.get("retirement_date") is not None and not has_age:
                retirement = normalise_retirement_date(data["retirement_date"])
                age = age_on(date_of_birth, retirement)[0]
                if not MIN_RETIREMENT_AGE <= age <= MAX_RETIREMENT_AGE:
                    errors["retirement_date"] = [_Msg(
                        f"At that date you would be {age}; the retirement age must be between "
                        f"{MIN_RETIREMENT_AGE} and {MAX_RETIREMENT_AGE}.", "out_of_range")]
                    retirement = None
        if retirement is not None and retirement < self.today.replace(day=1):
            name = "retirement_date" if has_date else "retirement_age"
            errors[name] = [_Msg(
                f"The pension would start on {retirement.isoformat()}, which is past; choose "
                f"a later age or date.", "in_past")]
            retirement = None
        stop = data.get("stop_date")
        if stop is not None:
            if retirement is not None and stop >= retirement:
                errors["stop_date"] = [_Msg(
                    f"The stop date must be before the pension starts "
                    f"({retirement.isoformat()}).", "after_retirement")]
            elif date_of_birth is not None and stop <= date_of_birth:
                errors["stop_date"] = [_Msg("The stop date is before the date of birth.",
                                            "before_birth")]
        child_errors: dict[int, dict[str, list[str]]] = {}
        for i, child in enumerate(data.get("children") or []):
            born = child.get("birth_date") if isinstance(child, Mapping) else None
            if born is None:
                continue
            if born > self.today:
                child_errors[i] = {"birth_date": [_Msg("The birth date is in the future.",
                                                       "in_future")]}
            elif date_of_birth is not None and born <= date_of_birth:
                child_errors[i] = {"birth_date": [_Msg(
                    "A child cannot be born before the parent.", "before_parent_birth")]}
        if child_errors:
            errors["children"] = child_errors
        return errors


class MemberAssumptionsSchema(_AssumptionFields):
    """The logged-in variant: identity and recorded career come from the fund's records,
    the body only carries the assumptions. Pass `date_of_birth` to check the ages."""

    def __init__(self, *, date_of_birth: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.date_of_birth = date_of_birth

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _domain(self, data: dict, original: Any, **_: Any) -> None:
        raw = original if isinstance(original, Mapping) else {}
        errors = self._assumption_errors(data, raw, self.date_of_birth)
        if errors:
            raise ValidationError(errors)


class AnonymousSimulationSchema(_AssumptionFields):
    """The public simulator's body: identity, career and assumptions."""

    date_of_birth = _date_field(required=True)
    sex = fields.String(required=True, validate=_one_of(SEXES))
    career = fields.List(fields.Nested(CareerPeriodSchema), load_default=list,
                         validate=validate.Length(max=MAX_CAREER_PERIODS))

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _domain(self, data: dict, original: Any, **_: Any) -> None:
        raw = original if isinstance(original, Mapping) else {}
        errors: dict[str, Any] = {}
        dob = data.get("date_of_birth")
        if dob is not None and dob > self.today:
            errors["date_of_birth"] = [_Msg("The date of birth is in the future.", "in_future")]
            dob = None
        elif dob is not None and dob < EARLIEST_DATE:
            errors["date_of_birth"] = [_Msg("The date of birth is too far in the past.",
                                            "out_of_range")]
            dob = None
        errors.update(self._assumption_errors(data, raw, dob))
        career_errors = _career_errors(data.get("career") or [], dob)
        if career_errors:
            errors["career"] = career_errors
        if errors:
            raise ValidationError(errors)


def _career_errors(items: list[Any], date_of_birth: date | None) -> dict[int, dict[str, list]]:
    """Periods starting before birth, and overlapping periods of one kind (a month of the
    same scheme cannot be worked twice: one salary per employee month, one class)."""
    errors: dict[int, dict[str, list]] = {}
    spans: list[tuple[int, str, date, date]] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        start, end, kind = item.get("start"), item.get("end"), item.get("kind")
        if date_of_birth is not None and start is not None and start < date_of_birth:
            errors.setdefault(i, {})["start"] = [_Msg("The period starts before the date of "
                                                      "birth.", "before_birth")]
        if start is not None and end is not None and end >= start and kind in KINDS:
            spans.append((i, kind, start, end))
    for a, (i, kind, start, end) in enumerate(spans):
        for j, other_kind, other_start, other_end in spans[:a]:
            if kind == other_kind and start <= other_end and other_start <= end:
                errors.setdefault(i, {})["start"] = [_Msg(
                    f"This {kind.replace('_', '-')} period overlaps career period {j}.",
                    "overlap")]
                break
    return errors
