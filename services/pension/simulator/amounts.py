"""What a scheme pays at a retirement date: the pension, the CAR deferral increase, the
CAR refund, and each scheme's result with the sentences that explain it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from services.pension.simulator.accrual import (
    Accrual,
    car_accrual,
    carti_accrual,
    cmrc_accrual,
    cmrc_start,
)
from services.pension.simulator.calendar import Period, date_at_age, months_between, of_kind
from services.pension.simulator.eligibility import (
    EarliestDate,
    Eligibility,
    earliest_in,
    minimum_condition_in,
)
from services.pension.simulator.explanations import Context, Trace, qualified, qualifier
from services.pension.simulator.figures import (
    CAR,
    CARTI,
    CMRC,
    EMPLOYEE,
    NO_ACTIVITY,
    NOT_ELIGIBLE,
    NOT_YET_AVAILABLE,
    ONE,
    PENSION,
    REFUND,
    SELF_EMPLOYED,
    ZERO,
    money,
    month_name,
    num,
    pct,
    rounded,
)
from services.pension.simulator.parameters import Parameters
from services.pension.simulator.projection import SimulationInputs
from services.pension.simulator.recorded import with_recorded


def pension_amounts(points: Decimal, point_value: Decimal,
                    increase: Decimal = ZERO) -> tuple[Decimal, Decimal]:
    """(annual, monthly) gross: annual = points x value x (1 + increase) to the cent;
    monthly = annual / 12 to the cent."""
    annual = rounded(points * point_value * (ONE + increase))
    return annual, rounded(annual / 12)


def car_deferral_in(ctx: Context, date_of_birth: date,
                    retirement_date: date) -> tuple[int, Decimal]:
    normal = date_at_age(date_of_birth, ctx.whole("car_cmrc_normal_age", retirement_date))
    if retirement_date <= normal:
        return 0, ZERO
    quarters = months_between(normal, retirement_date) // 3
    return quarters, quarters * ctx.get("car_deferral_increase_per_quarter", retirement_date)


def car_deferral(date_of_birth: date, retirement_date: date, params: Parameters | None = None,
                 trace: Trace | None = None) -> tuple[int, Decimal]:
    """(full quarters elapsed since the normal date at 65, total increase rate)."""
    return car_deferral_in(Context(params, trace), date_of_birth, retirement_date)


def car_refund_in(ctx: Context, points: Decimal, request_date: date) -> Decimal:
    rate = ctx.get("car_employee_rate", request_date)
    return rounded(points * rate * ctx.get("car_base_salary", request_date))


def car_refund(points: Decimal, request_date: date, params: Parameters | None = None,
               trace: Trace | None = None) -> Decimal:
    """One-off refund of the employee share when the CAR condition is not met:
    points from activity x employee rate x base salary at the request date, to the cent."""
    return car_refund_in(Context(params, trace), points, request_date)


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    request_date: date
    points: Decimal
    employee_rate: Decimal
    base_salary: Decimal
    base_salary_projected: bool

    def as_dict(self) -> dict[str, Any]:
        return {"amount": str(rounded(self.amount)), "request_date": self.request_date.isoformat(),
                "points": str(rounded(self.points)), "employee_rate": str(self.employee_rate),
                "base_salary": str(rounded(self.base_salary)),
                "base_salary_projected": self.base_salary_projected}


@dataclass(frozen=True)
class SchemeResult:
    """One scheme at one retirement date: points, amounts, eligibility and why."""

    scheme: str
    outcome: str
    points: Decimal
    points_by_year: dict[str, Decimal]
    months_with_activity: int
    years_with_activity: int
    projected_months: int
    point_value: Decimal | None
    point_value_projected: bool
    point_value_status: str | None
    deferral_quarters: int
    increase_rate: Decimal
    annual_gross: Decimal
    monthly_gross: Decimal
    eligibility: Eligibility
    earliest: EarliestDate
    refund: Refund | None
    explanations: tuple[str, ...]
    origins: dict[str, str] = field(default_factory=dict)
    assimilated_points: Decimal = ZERO
    last_recorded_year: str | None = None

    @property
    def eligible(self) -> bool:
        return self.outcome == PENSION

    def points_of(self, origin: str) -> Decimal:
        return sum((v for k, v in self.points_by_year.items()
                    if self.origins.get(k) == origin), ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "outcome": self.outcome,
            "eligible": self.eligible,
            "points": str(rounded(self.points)),
            "points_by_year": {k: str(v) for k, v in self.points_by_year.items()},
            "years": [{"year": k, "points": str(v), "origin": self.origins.get(k, "projected")}
                      for k, v in self.points_by_year.items()],
            "recorded_points": str(rounded(self.points_of("recorded"))),
            "projected_points": str(rounded(self.points_of("projected"))),
            "assimilated_points": str(rounded(self.assimilated_points)),
            "last_recorded_year": self.last_recorded_year,
            "months_with_activity": self.months_with_activity,
            "years_with_activity": self.years_with_activity,
            "projected_months": self.projected_months,
            "point_value": str(self.point_value) if self.point_value is not None else None,
            "point_value_projected": self.point_value_projected,
            "point_value_status": self.point_value_status,
            "deferral_quarters": self.deferral_quarters,
            "increase_rate": str(self.increase_rate),
            "annual_gross": str(rounded(self.annual_gross)),
            "monthly_gross": str(rounded(self.monthly_gross)),
            "minimum_condition": self.eligibility.as_dict(),
            "earliest": self.earliest.as_dict(),
            "refund": self.refund.as_dict() if self.refund else None,
            "explanations": list(self.explanations),
        }


def scheme_result(ctx: Context, inputs: SimulationInputs, scheme: str, career: list[Period],
            retirement_date: date) -> SchemeResult:
    today = inputs.today
    if scheme == CAR:
        accrual = car_accrual(ctx, career)
    elif scheme == CMRC:
        accrual = cmrc_accrual(ctx, career)
    else:
        accrual = carti_accrual(ctx, career)
    assimilated = None
    if inputs.recorded is not None:
        accrual = with_recorded(accrual, inputs.recorded, stop=retirement_date)
        assimilated = [replace(p, end=min(p.end, retirement_date - timedelta(days=1)))
                       for p in inputs.recorded.condition_periods(scheme)
                       if p.start < retirement_date]
    kind = SELF_EMPLOYED if scheme == CARTI else EMPLOYEE
    eligibility = minimum_condition_in(ctx, scheme, of_kind(career, kind), today, assimilated)
    earliest = earliest_in(ctx, scheme, inputs.date_of_birth, inputs.sex, inputs.children,
                         inputs.incapacity, today)
    points = accrual.points
    lines: list[str] = []
    empty = dict(point_value=None, point_value_projected=False, point_value_status=None,
                 deferral_quarters=0, increase_rate=ZERO, annual_gross=ZERO,
                 monthly_gross=ZERO, refund=None)
    base = dict(scheme=scheme, points=points, points_by_year=accrual.points_by_year,
                origins=accrual.origins, assimilated_points=accrual.assimilated_points,
                last_recorded_year=accrual.last_recorded_year,
                months_with_activity=len(accrual.months), years_with_activity=accrual.years,
                projected_months=accrual.projected_months, eligibility=eligibility,
                earliest=earliest)
    if not accrual.months and not accrual.points:
        what = {CAR: "salaried work", CMRC: "salaried work since "
                f"{cmrc_start(ctx.params).isoformat()}", CARTI: "self-employment"}[scheme]
        lines.append(f"{scheme}: no {what} in the career, so no {scheme} pension.")
        return SchemeResult(outcome=NO_ACTIVITY, explanations=tuple(lines), **base, **empty)

    lines.append(points_line(ctx, scheme, accrual, inputs.recorded is not None))
    lines.append(eligibility.reason)
    lines.append(earliest.reason)
    value_name = {CAR: "car_point_value", CMRC: "cmrc_service_value",
                  CARTI: "carti_point_value"}[scheme]
    if retirement_date < earliest.date:
        lines.append(f"{scheme}: not available on {retirement_date.isoformat()}, before the "
                     f"earliest date {earliest.date.isoformat()}; nothing is counted for it at "
                     f"that date.")
        return SchemeResult(outcome=NOT_YET_AVAILABLE, explanations=tuple(lines), **base,
                            **empty)
    if not eligibility.met:
        if scheme != CAR:
            lines.append(f"{scheme}: no pension, as the minimum condition is not met (the "
                         f"sources describe no refund for the {scheme}).")
            return SchemeResult(outcome=NOT_ELIGIBLE, explanations=tuple(lines), **base,
                                **empty)
        request = max(retirement_date, earliest.normal_date)
        rate = ctx.get("car_employee_rate", request)
        salary = ctx.pv("car_base_salary", request)
        activity = accrual.activity_points  # points credited for interruptions excluded
        amount = car_refund_in(ctx, activity, request)
        refund = Refund(amount, request, activity, rate, salary.value, salary.projected)
        lines.append(
            f"CAR: as the minimum condition is not met, no pension is paid; instead the "
            f"employee contributions are refunded once: {rounded(activity)} points from "
            f"activity x "
            f"{pct(rate)} (employee rate) x {money(salary.value)} (base salary on "
            f"{request.isoformat()}{qualified(salary)}) = "
            f"{money(amount)}.")
        outcome = REFUND
        if retirement_date < earliest.normal_date:
            outcome = NOT_ELIGIBLE
            lines.append(f"CAR: the refund can be requested from {request.isoformat()} "
                         f"(the normal date at {earliest.normal_age}), not before.")
        return SchemeResult(outcome=outcome, explanations=tuple(lines), **base,
                            **{**empty, "refund": refund})

    value = ctx.pv(value_name, retirement_date)
    quarters, increase = (car_deferral_in(ctx, inputs.date_of_birth, retirement_date)
                          if scheme == CAR else (0, ZERO))
    annual, monthly = pension_amounts(points, value.value, increase)
    label = ctx.params.series(value_name).label
    flag = qualifier(value)
    lines.append(f"{label} on {retirement_date.isoformat()}: {num(value.value)} EUR a year per "
                 f"point{f' ({flag}, see the assumptions)' if flag else ''}.")
    if quarters:
        per = ctx.pv("car_deferral_increase_per_quarter", retirement_date)
        lines.append(f"CAR: starting {quarters} full quarter(s) after the normal date "
                     f"{earliest.normal_date.isoformat()} increases the pension by {quarters} x "
                     f"{pct(per.value)} = {pct(increase)} (rate {qualifier(per) or 'official'}"
                     f"; no cap is applied: an assumption, see the rules assumed).")
        factor = f" x (1 + {pct(increase)})"
    else:
        factor = ""
    lines.append(f"{scheme}: annual gross pension = {rounded(points)} points x "
                 f"{num(value.value)} EUR{factor} = {money(annual)}; monthly = annual / 12 = "
                 f"{money(monthly)}.")
    if scheme == CARTI and retirement_date > earliest.normal_date:
        lines.append("CARTI: there is no percentage increase for starting after 65; the "
                     "months contributed until then simply keep earning points.")
    if scheme == CMRC and retirement_date > earliest.normal_date:
        lines.append("CMRC: no increase for starting after 65 is applied (none is documented "
                     "in the sources).")
    if retirement_date < earliest.normal_date:
        lines.append(f"{scheme}: a pension before {earliest.normal_age} requires having "
                     f"stopped all activity; the simulation stops it the day before.")
    else:
        lines.append(f"{scheme}: the simulation stops all activity the day before the pension "
                     f"starts, also from {earliest.normal_age} (an assumption: the sources "
                     f"require it only before {earliest.normal_age}).")
    return SchemeResult(
        outcome=PENSION, explanations=tuple(lines), **base,
        **{**empty, "point_value": value.value, "point_value_projected": value.projected,
           "point_value_status": value.status, "deferral_quarters": quarters,
           "increase_rate": increase, "annual_gross": annual, "monthly_gross": monthly},
    )


def recorded_line(scheme: str, accrual: Accrual) -> str:
    """Which of a member's points are the fund's figures and which are projected."""
    recorded = accrual.years_of("recorded")
    credited = (f" {rounded(accrual.assimilated_points)} points are credited by the fund for "
                f"assimilated periods (sickness, maternity...)." if accrual.assimilated_points
                else "")
    if not recorded:
        return (f" The fund has recorded no {scheme} points per year yet: every year's points "
                f"here are projected, computed from the recorded periods.{credited}")
    projected = accrual.years_of("projected")
    return (f" {rounded(accrual.points_of('recorded'))} points are the fund's recorded figures "
            f"({len(recorded)} year(s), up to {accrual.last_recorded_year}); "
            f"{rounded(accrual.points_of('projected'))} points are projected, computed from "
            f"the periods ({len(projected)} year(s): those after the last recorded year and any "
            f"year with periods but no recorded figure).{credited}")


def points_line(ctx: Context, scheme: str, accrual: Accrual, member: bool = False) -> str:
    """The sentence on a scheme's points; `member`: a career the fund recorded."""
    tail = recorded_line(scheme, accrual) if member else ""
    if not accrual.months:
        return f"{scheme}: {rounded(accrual.points)} points, all recorded by the fund.{tail}"
    first, last = accrual.months[0], accrual.months[-1]
    projected = (f", of which {accrual.projected_months} projected from your assumptions"
                 if accrual.projected_months else "")
    head = (f"{scheme}: {rounded(accrual.points)} points from {len(accrual.months)} month(s) "
            f"between {month_name(first)} and {month_name(last)}{projected}.{tail}")
    if scheme == CAR:
        sample = ctx.pv("car_base_salary", last)
        cap = num(ctx.get("car_max_points_per_month", last))
        return head + (
            " Each month's gross salary is divided by the CAR base salary in force that month "
            f"(for instance {money(sample.value)} in {month_name(last)}"
            f"{qualified(sample)}), with at most {cap} points a month; "
            "points are added per financial year (1 October to 30 September) and each year's "
            "total is rounded to 2 decimals. A month worked in part counts its salary, and the "
            "cap, in proportion to the days worked.")
    if scheme == CMRC:
        ceiling = ctx.pv("cmrc_tranche_a_ceiling", last)
        return head + (
            f" Each month, the salary up to the CMRC ceiling ({money(ceiling.value)} in "
            f"{month_name(last)}{qualified(ceiling)}; tranche A) "
            f"generates {pct(ctx.get('cmrc_rate_a', last))} and the part above, up to "
            f"{num(ctx.get('cmrc_tranche_b_ceiling_multiple', last))} times the ceiling "
            f"(tranche B), {pct(ctx.get('cmrc_rate_b', last))}; that contribution divided by "
            "the reference salary (the price of a point) gives the points, totalled per "
            "calendar year and rounded to 2 decimals. Only months from "
            f"{month_name(cmrc_start(ctx.params))} count.")
    return head + (" Each month contributed in class N earns N points (class 1 to 4); points "
                   "are totalled per calendar year.")
