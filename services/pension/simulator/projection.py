"""The career a simulation counts: the given periods cut at the stop date, plus the
future activity the member assumes (marked projected)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from services.kit import clock
from services.pension.simulator.calendar import (
    Child,
    Period,
    date_at_age,
    normalise_retirement_date,
)
from services.pension.simulator.explanations import Context, Trace, qualified
from services.pension.simulator.figures import EMPLOYEE, ONE, SELF_EMPLOYED, money, pct, rounded
from services.pension.simulator.parameters import Parameters
from services.pension.simulator.recorded import RecordedCareer


@dataclass(frozen=True)
class FutureAssumptions:
    """How the career goes on from today until the stop date."""

    monthly_gross_salary: Decimal | None = None
    contribution_class: int | None = None
    yearly_salary_growth: Decimal | None = None  # None: the projection default
    stop_date: date | None = None  # None: the day before the pension starts


@dataclass(frozen=True)
class SimulationInputs:
    """Everything a simulation needs; exactly one of retirement_age / retirement_date."""

    date_of_birth: date
    sex: str
    career: tuple[Period, ...] = ()
    retirement_age: int | None = None
    retirement_date: date | None = None
    children: tuple[Child, ...] = ()
    incapacity: bool = False
    future: FutureAssumptions = field(default_factory=FutureAssumptions)
    recorded: RecordedCareer | None = None  # the fund's figures (None: a declared career)
    today: date = field(default_factory=clock.today)

    def __post_init__(self) -> None:
        if (self.retirement_age is None) == (self.retirement_date is None):
            raise ValueError("give exactly one of retirement_age and retirement_date")

    def resolved_retirement_date(self) -> date:
        if self.retirement_date is not None:
            return normalise_retirement_date(self.retirement_date)
        return date_at_age(self.date_of_birth, self.retirement_age or 0)


def stop_date_of(inputs: SimulationInputs, retirement_date: date) -> date:
    last_day = retirement_date - timedelta(days=1)
    stop = inputs.future.stop_date
    return last_day if stop is None else min(stop, last_day)


def project_career(inputs: SimulationInputs, retirement_date: date,
                   params: Parameters | None = None,
                   trace: Trace | None = None) -> tuple[list[Period], date, list[str]]:
    """The career the pension is computed on: the given periods clipped at the stop date,
    plus the future activity from the assumptions (see `project_in`). Returns (periods, stop
    date, explanation lines)."""
    return project_in(Context(params, trace), inputs, retirement_date)


def project_in(ctx: Context, inputs: SimulationInputs,
             retirement_date: date) -> tuple[list[Period], date, list[str]]:
    """Given periods are clipped at the stop date. Future activity starts today, or the day
    after the last given period of the kind if that is later, and runs to the stop date:
    employee at the future salary raised by the yearly growth on each anniversary of its
    start (rounded to the cent), self-employed in the future class."""
    stop = stop_date_of(inputs, retirement_date)
    notes: list[str] = []
    career: list[Period] = []
    for period in inputs.career:
        if period.start > stop:
            notes.append(f"A {period.kind.replace('_', '-')} period from "
                         f"{period.start.isoformat()} starts after the stop date "
                         f"{stop.isoformat()} and is not counted.")
            continue
        if period.end > stop:
            notes.append(f"A {period.kind.replace('_', '-')} period ending "
                         f"{period.end.isoformat()} is counted up to the stop date "
                         f"{stop.isoformat()} only.")
            period = replace(period, end=stop)
        career.append(period)

    def future_start(kind: str) -> date:
        ends = [p.end for p in inputs.career if p.kind == kind]
        return max([inputs.today, *(e + timedelta(days=1) for e in ends)])

    future = inputs.future
    if future.monthly_gross_salary is not None:
        start = future_start(EMPLOYEE)
        if start > stop:
            notes.append("No future salaried work is added: the stop date "
                         f"{stop.isoformat()} is not after {start.isoformat()}.")
        else:
            if future.yearly_salary_growth is not None:
                growth = future.yearly_salary_growth
                said = "your assumption"
            else:
                growth = ctx.get("projection_salary_growth", inputs.today)
                said = "default assumption, as you gave none"
            years = 0
            while True:
                seg_start = start + relativedelta(years=years)
                if seg_start > stop:
                    break
                seg_end = min(stop, start + relativedelta(years=years + 1) - timedelta(days=1))
                salary = rounded(future.monthly_gross_salary * (ONE + growth) ** years)
                career.append(Period(EMPLOYEE, seg_start, seg_end, salary, None, "projected"))
                years += 1
            notes.append(
                f"Future salaried work assumed from {start.isoformat()} to {stop.isoformat()} "
                f"at {money(future.monthly_gross_salary)} gross a month, raised by "
                f"{pct(growth)} a year ({said}).")
    if future.contribution_class is not None:
        start = future_start(SELF_EMPLOYED)
        if start > stop:
            notes.append("No future self-employment is added: the stop date "
                         f"{stop.isoformat()} is not after {start.isoformat()}.")
        else:
            career.append(Period(SELF_EMPLOYED, start, stop, None, future.contribution_class,
                                 "projected"))
            quarterly = ctx.pv(f"carti_quarterly_contribution_class_{future.contribution_class}",
                               inputs.today)
            notes.append(
                f"Future self-employment assumed from {start.isoformat()} to {stop.isoformat()} "
                f"in CARTI class {future.contribution_class} ({future.contribution_class} "
                f"point(s) a month; contribution {money(quarterly.value)} a quarter today"
                f"{qualified(quarterly)}).")
    if future.monthly_gross_salary is None and future.contribution_class is None:
        notes.append("No future activity is assumed beyond the periods given (no future "
                     "salary or CARTI class was given).")
    return career, stop, notes
