"""Dates and the months a career covers.

- A career period runs from `start` to `end`, both days included.
- A month "with activity" is a calendar month with at least one day in a period of the kind.
  A month worked in part counts its salary in proportion to the calendar days worked
  (salary x days / days in the month), and the monthly caps (4 CAR points, CMRC ceilings)
  are prorated the same way, as contribution ceilings are for partial months.
- A pension starts on the first day of a month. "At age N" means the first day of the month
  following the N-th birthday (born 15 March 1965: 1 April 2025 at 60; born 1 March 1965:
  1 April 2025 too). A retirement date that is not the 1st moves to the next 1st.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta

# when a pension starts and ages on a day: public, the inputs' checks rest on them
from services.contracts.simulation import (  # noqa: F401  (re-exported for the simulator)
    age_on,
    birthday,
    date_at_age,
    first_of_month_after,
    normalise_retirement_date,
)
from services.pension.simulator.figures import EMPLOYEE, ONE, SELF_EMPLOYED, ZERO


def months_between(start: date, end: date) -> int:
    gap = relativedelta(end, start)
    return gap.years * 12 + gap.months


def financial_year(month: date) -> str:
    """The CAR financial year (1 October to 30 September) of a month, e.g. "2023/2024"."""
    first = month.year if month.month >= 10 else month.year - 1
    return f"{first}/{first + 1}"


def month_slices(start: date, end: date) -> Iterator[tuple[date, int, int]]:
    """(first day of month, days covered, days in month) for each month of [start, end]."""
    year, number = start.year, start.month
    while (month := date(year, number, 1)) <= end:
        days_in_month = monthrange(year, number)[1]
        lo = max(start, month)
        hi = min(end, month.replace(day=days_in_month))
        yield month, (hi - lo).days + 1, days_in_month
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))




@dataclass(frozen=True)
class Period:
    """A stretch of work: employee (monthly gross salary) or self-employed (CARTI class).

    `origin` is "recorded" (the fund's records), "declared" (typed by the member) or
    "projected" (made from the future assumptions).
    """

    kind: str
    start: date
    end: date
    monthly_gross_salary: Decimal | None = None
    contribution_class: int | None = None
    origin: str = "declared"

    @classmethod
    def of(cls, item: Period | Mapping[str, Any], kind: str | None = None) -> Period:
        """A Period from itself or from a dict {start, end, monthly_gross_salary | class}."""
        if isinstance(item, Period):
            return item
        salary = item.get("monthly_gross_salary")
        klass = item.get("contribution_class", item.get("class"))
        kind = item.get("kind") or kind or (EMPLOYEE if salary is not None else SELF_EMPLOYED)
        return cls(
            kind=kind,
            start=as_date(item["start"]),
            end=as_date(item["end"]),
            monthly_gross_salary=Decimal(str(salary)) if salary is not None else None,
            contribution_class=int(klass) if klass is not None else None,
            origin=item.get("origin", "declared"),
        )


@dataclass(frozen=True)
class Child:
    birth_date: date
    years_raised_before_16: int


def of_kind(periods: Iterable[Period | Mapping[str, Any]], kind: str) -> list[Period]:
    out = [Period.of(p, kind) for p in periods]
    return [p for p in out if p.kind == kind and p.end >= p.start]


@dataclass
class EmployeeMonth:
    earnings: Decimal = ZERO
    fraction: Decimal = ZERO
    projected: bool = False
    declared: bool = True  # every day of it from periods the member declared


def employee_months(periods: Iterable[Period | Mapping[str, Any]],
                     since: date | None = None) -> dict[date, EmployeeMonth]:
    """Month -> earnings, worked fraction, projected. Shared and cached: do not mutate."""
    return _employee_months_of(tuple(of_kind(periods, EMPLOYEE)), since)


@lru_cache(maxsize=128)
def _employee_months_of(periods: tuple[Period, ...],
                        since: date | None) -> dict[date, EmployeeMonth]:
    months: dict[date, EmployeeMonth] = {}
    for period in periods:
        salary = period.monthly_gross_salary or ZERO
        for month, days, days_in_month in month_slices(period.start, period.end):
            if since is not None and month < since:
                continue
            m = months.setdefault(month, EmployeeMonth())
            m.earnings += salary * days / days_in_month
            m.fraction = min(ONE, m.fraction + Decimal(days) / days_in_month)
            m.projected = m.projected or period.origin == "projected"
            m.declared = m.declared and period.origin == "declared"
    return dict(sorted(months.items()))


def self_employed_months(periods: Iterable[Period | Mapping[str, Any]],
                          since: date | None = None) -> dict[date, tuple[int, str]]:
    """Month -> (class, origin of the period that counts). Two periods in one month: the
    one covering more days wins (a tie goes to the higher class), since a month is
    contributed once, in one class."""
    return _self_employed_months_of(tuple(of_kind(periods, SELF_EMPLOYED)), since)


@lru_cache(maxsize=128)
def _self_employed_months_of(periods: tuple[Period, ...],
                             since: date | None) -> dict[date, tuple[int, str]]:
    best: dict[date, tuple[int, int, str]] = {}
    for period in periods:
        klass = period.contribution_class or 0
        for month, days, _ in month_slices(period.start, period.end):
            if since is not None and month < since:
                continue
            current = best.get(month)
            if current is None or (days, klass) > current[:2]:
                best[month] = (days, klass, period.origin)
    return {m: (v[1], v[2]) for m, v in sorted(best.items())}


def months_with_activity(periods: Iterable[Period | Mapping[str, Any]], kind: str,
                         since: date | None = None) -> int:
    """Calendar months with at least one day of activity of the kind."""
    if kind == EMPLOYEE:
        return len(employee_months(periods, since))
    return len(self_employed_months(periods, since))


def years_with_activity(periods: Iterable[Period | Mapping[str, Any]], kind: str,
                        since: date | None = None) -> int:
    """Calendar years with at least one month of activity of the kind."""
    months = (employee_months(periods, since) if kind == EMPLOYEE
              else self_employed_months(periods, since))
    return len({m.year for m in months})
