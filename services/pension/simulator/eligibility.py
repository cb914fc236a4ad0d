"""Who can draw a pension and from when: the minimum condition and the earliest date."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from services.kit import clock
from services.pension.simulator.accrual import cmrc_start
from services.pension.simulator.calendar import (
    Child,
    Period,
    age_on,
    birthday,
    date_at_age,
    first_of_month_after,
    months_with_activity,
    of_kind,
    years_with_activity,
)
from services.pension.simulator.explanations import Context, Trace
from services.pension.simulator.figures import CAR, CARTI, CMRC, EMPLOYEE, SELF_EMPLOYED
from services.pension.simulator.parameters import Parameters


@dataclass(frozen=True)
class Eligibility:
    """The minimum-duration condition of a scheme, counted on the career up to a date."""

    scheme: str
    met: bool
    months: int
    years: int
    required_months: int
    required_years: int | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"met": self.met, "months": self.months, "years": self.years,
                "required_months": self.required_months,
                "required_years": self.required_years, "reason": self.reason}


def minimum_condition_in(ctx: Context, scheme: str, periods: list[Period], on: date,
                         assimilated: list[Period] | None = None) -> Eligibility:
    """`assimilated`: the months of the assimilated periods the fund recorded (None for a
    declared career, where they are not simulated)."""
    if scheme == CARTI:
        months = months_with_activity(periods, SELF_EMPLOYED)
        years = years_with_activity(periods, SELF_EMPLOYED)
        needed = ctx.whole("carti_min_monthly_contributions", on)
        met = months >= needed
        reason = (f"Minimum condition {'met' if met else 'not met'}: {months} monthly "
                  f"contributions to the CARTI (at least {needed} needed).")
        return Eligibility(scheme, met, months, years, needed, None, reason)
    since = None
    scope = "salaried work"
    if scheme == CMRC and not ctx.whole("cmrc_condition_counts_all_salaried_periods", on):
        since = cmrc_start(ctx.params)
        scope = f"salaried work since {since.isoformat()}"
    counted = [*periods, *(assimilated or [])]
    months = months_with_activity(counted, EMPLOYEE, since)
    years = years_with_activity(counted, EMPLOYEE, since)
    need_years = ctx.whole("car_cmrc_min_years", on)
    need_months = ctx.whole("car_cmrc_min_months", on)
    met = months >= need_months and years >= need_years
    reason = (f"Minimum condition {'met' if met else 'not met'}: {scope} in {years} "
              f"different calendar year(s) (at least {need_years} needed) and {months} "
              f"month(s) (at least {need_months} needed). A calendar year counts if it has at "
              f"least one month of salaried work (one day of work counts the month: an "
              f"assumption, see the rules assumed); {_assimilated_words(assimilated, since)}")
    return Eligibility(scheme, met, months, years, need_months, need_years, reason)


def _assimilated_words(assimilated: list[Period] | None, since: date | None) -> str:
    if assimilated is None:
        return ("assimilated periods (sickness, maternity, unemployment...) are not "
                "simulated.")
    counted = [p for p in assimilated if since is None or p.end >= since]
    if not counted:
        return "the fund recorded no assimilated period (sickness, maternity...) that counts."
    months = months_with_activity(counted, EMPLOYEE, since)
    return (f"{months} month(s) of assimilated periods the fund recorded (sickness, "
            f"maternity, unemployment, military service, invalidity) count as work.")


def minimum_condition(scheme: str, periods: Iterable[Period | Mapping[str, Any]], on: date,
                      params: Parameters | None = None,
                      trace: Trace | None = None,
                      assimilated: Iterable[Period] | None = None) -> Eligibility:
    """CAR/CMRC: >= 10 calendar years with salaried work and >= 60 months; CARTI: >= 120
    monthly contributions. `on` picks the rules in force (and the CMRC counting basis)."""
    kind = SELF_EMPLOYED if scheme == CARTI else EMPLOYEE
    return minimum_condition_in(Context(params, trace), scheme, of_kind(periods, kind), on,
                                None if assimilated is None else list(assimilated))


@dataclass(frozen=True)
class EarliestDate:
    """When a scheme's pension can start at the earliest, and its normal date."""

    scheme: str
    date: date
    age: int
    normal_date: date
    normal_age: int
    rule: str  # "standard", "mother", "incapacity" or "normal"
    reason: str
    request_opens: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "age": self.age, "rule": self.rule,
                "normal_date": self.normal_date.isoformat(), "normal_age": self.normal_age,
                "request_opens": self.request_opens.isoformat() if self.request_opens else None,
                "reason": self.reason}


def _mother_date(ctx: Context, date_of_birth: date, sex: str, children: Iterable[Child],
                 on: date) -> date | None:
    """The mother's early date, or None. The third child (in the order the 8 years are
    completed, counted from birth) must have been raised 8 years by then."""
    if sex != "F":
        return None
    need_children = ctx.whole("mother_min_children", on)
    need_years = ctx.whole("mother_min_years_raised", on)
    reached = sorted(birthday(c.birth_date, need_years) for c in children
                     if c.years_raised_before_16 >= need_years)
    if len(reached) < need_children:
        return None
    at_age = date_at_age(date_of_birth, ctx.whole("car_cmrc_mother_age", on))
    return max(at_age, first_of_month_after(reached[need_children - 1]))


def earliest_in(ctx: Context, scheme: str, date_of_birth: date, sex: str,
              children: Iterable[Child], incapacity: bool, on: date) -> EarliestDate:
    if scheme == CARTI:
        normal_age = ctx.whole("carti_normal_age", on)
        normal = date_at_age(date_of_birth, normal_age)
        if incapacity:
            age = ctx.whole("carti_incapacity_age", on)
            return EarliestDate(
                scheme, date_at_age(date_of_birth, age), age, normal, normal_age, "incapacity",
                f"CARTI: normally from {normal_age}; from {age} without reduction for a "
                f"medically recognised incapacity to work (declared, to be recognised by the "
                f"fund's doctor): first day of the month after your {age}th birthday.")
        return EarliestDate(
            scheme, normal, normal_age, normal, normal_age, "normal",
            f"CARTI: from {normal_age}, the first day of the month after your {normal_age}th "
            f"birthday (earlier only for a medically recognised incapacity).")
    normal_age = ctx.whole("car_cmrc_normal_age", on)
    normal = date_at_age(date_of_birth, normal_age)
    age = ctx.whole("car_cmrc_earliest_age", on)
    earliest = date_at_age(date_of_birth, age)
    rule = "standard"
    reason = (f"{scheme}: the right opens at {normal_age}; it can be taken without reduction "
              f"from {age}, the first day of the month after your {age}th birthday, provided "
              f"all activity has stopped.")
    mother = _mother_date(ctx, date_of_birth, sex, children, on)
    if mother is not None and mother < earliest:
        earliest = mother
        age = age_on(date_of_birth, mother)[0]
        rule = "mother"
        reason = (f"{scheme}: as a mother who raised at least "
                  f"{ctx.whole('mother_min_children', on)} children for at least "
                  f"{ctx.whole('mother_min_years_raised', on)} years each before their 16th "
                  f"birthday, from {earliest.isoformat()}: the first day of the month after "
                  f"your {ctx.whole('car_cmrc_mother_age', on)}th birthday, or after the date "
                  f"the third child had been raised 8 years if later.")
    opens = None
    if scheme == CAR:
        # the online request opens the month before the birthday of the earliest age, i.e.
        # two months before the earliest date (the 1st of the month after that birthday)
        opens = earliest - relativedelta(months=2)
    return EarliestDate(scheme, earliest, age, normal, normal_age, rule, reason, opens)


def earliest_date(scheme: str, date_of_birth: date, sex: str, children: Iterable[Child] = (),
                  incapacity: bool = False, on: date | None = None,
                  params: Parameters | None = None,
                  trace: Trace | None = None) -> EarliestDate:
    """CAR/CMRC: 1st of the month after the 60th birthday, or the 55th for a woman who raised
    >= 3 children >= 8 years each before 16 (not before the 3rd child's 8 years are done);
    CARTI: 65, or 60 with a recognised incapacity. `on`: the rules in force (default today)."""
    return earliest_in(Context(params, trace), scheme, date_of_birth, sex, tuple(children),
                     incapacity, on or clock.today())
