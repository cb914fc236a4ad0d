"""Points per scheme: CAR per financial year, CMRC and CARTI per calendar year."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from services.pension.simulator.calendar import (
    Period,
    employee_months,
    financial_year,
    self_employed_months,
)
from services.pension.simulator.explanations import Context, Trace
from services.pension.simulator.figures import CAR, CARTI, CMRC, ONE, ZERO, rounded
from services.pension.simulator.parameters import Parameters

RECORDED, DECLARED, PROJECTED = "recorded", "declared", "projected"


@dataclass(frozen=True)
class Accrual:
    """Points of one scheme per year (each rounded to 2 decimals) and the months behind.

    `origins` says where each year's figure comes from: `recorded` (the fund's own figure,
    see `recorded.py`), `declared` (computed from periods the member typed, all in the past)
    or `projected` (computed by these rules: from the fund's periods without a recorded
    figure, or from assumed future activity). Points credited for assimilated periods
    (sickness, maternity...) are the fund's figures too, counted apart from the years.
    """

    scheme: str
    points_by_year: dict[str, Decimal]
    months: tuple[date, ...]
    projected_months: int
    origins: dict[str, str] = field(default_factory=dict)
    assimilated_points: Decimal = ZERO
    last_recorded_year: str | None = None

    @property
    def activity_points(self) -> Decimal:
        """Points from activity (the CAR refund counts only these)."""
        return sum(self.points_by_year.values(), ZERO)

    @property
    def points(self) -> Decimal:
        return self.activity_points + self.assimilated_points

    def points_of(self, origin: str) -> Decimal:
        return sum((v for k, v in self.points_by_year.items()
                    if self.origins.get(k) == origin), ZERO)

    def years_of(self, origin: str) -> list[str]:
        return [k for k in self.points_by_year if self.origins.get(k) == origin]

    @property
    def years(self) -> int:
        return len({m.year for m in self.months})


def _origins(declared: dict[str, bool]) -> dict[str, str]:
    """A computed year is `declared` when every month of it comes from declared periods;
    otherwise the rules computed it from the fund's periods or assumed activity: projected."""
    return {k: DECLARED if v else PROJECTED for k, v in declared.items()}


def car_accrual(ctx: Context, periods: Iterable[Period | Mapping[str, Any]]) -> Accrual:
    months = employee_months(periods)
    totals: dict[str, Decimal] = {}
    declared: dict[str, bool] = {}
    for month, act in months.items():
        base = ctx.get("car_base_salary", month)
        cap = ctx.get("car_max_points_per_month", month) * act.fraction
        label = financial_year(month)
        totals[label] = totals.get(label, ZERO) + min(act.earnings / base, cap)
        declared[label] = declared.get(label, True) and act.declared
    return Accrual(CAR, {k: rounded(v) for k, v in totals.items()}, tuple(months),
                   sum(1 for a in months.values() if a.projected), _origins(declared))


def car_points(periods: Iterable[Period | Mapping[str, Any]], params: Parameters | None = None,
               trace: Trace | None = None) -> dict[str, Decimal]:
    """CAR points per financial year ("2023/2024" = 1 Oct 2023 to 30 Sep 2024).

    Each month: gross salary earned that month / base salary in force on the 1st of the
    month, capped at 4 points (prorated for a month worked in part). The year's total is
    rounded to 2 decimals (half up); months are not rounded one by one.
    """
    return car_accrual(Context(params, trace), periods).points_by_year


@dataclass(frozen=True)
class CmrcMonth:
    """One month of CMRC: salary split in tranches, rights-generating contribution, points."""

    month: date
    salary: Decimal
    tranche_a: Decimal
    tranche_b: Decimal
    contribution_a: Decimal
    contribution_b: Decimal
    reference_salary: Decimal

    @property
    def contribution(self) -> Decimal:
        return self.contribution_a + self.contribution_b

    @property
    def points(self) -> Decimal:
        return self.contribution / self.reference_salary


def cmrc_month_in(ctx: Context, salary: Decimal, month: date, fraction: Decimal = ONE) -> CmrcMonth:
    ceiling = ctx.get("cmrc_tranche_a_ceiling", month) * fraction
    top = ceiling * ctx.get("cmrc_tranche_b_ceiling_multiple", month)
    tranche_a = min(salary, ceiling)
    tranche_b = max(ZERO, min(salary, top) - ceiling)
    return CmrcMonth(
        month, salary, tranche_a, tranche_b,
        tranche_a * ctx.get("cmrc_rate_a", month),
        tranche_b * ctx.get("cmrc_rate_b", month),
        ctx.get("cmrc_reference_salary", month),
    )


def cmrc_month(salary: Decimal, month: date, params: Parameters | None = None,
               trace: Trace | None = None) -> CmrcMonth:
    """The CMRC split of one full month's gross salary (tranche A to the ceiling, B above)."""
    return cmrc_month_in(Context(params, trace), salary, month)


def cmrc_start(params: Parameters | None = None) -> date:
    """The CMRC exists from the first effective date of its price of a point (2024-01-01)."""
    return (params or Parameters.load()).first_effective("cmrc_reference_salary")


def cmrc_accrual(ctx: Context, periods: Iterable[Period | Mapping[str, Any]]) -> Accrual:
    months = employee_months(periods, since=cmrc_start(ctx.params))
    totals: dict[str, Decimal] = {}
    declared: dict[str, bool] = {}
    for month, act in months.items():
        label = str(month.year)
        totals[label] = totals.get(label, ZERO) + cmrc_month_in(
            ctx, act.earnings, month, act.fraction).points
        declared[label] = declared.get(label, True) and act.declared
    return Accrual(CMRC, {k: rounded(v) for k, v in totals.items()}, tuple(months),
                   sum(1 for a in months.values() if a.projected), _origins(declared))


def cmrc_points(periods: Iterable[Period | Mapping[str, Any]], params: Parameters | None = None,
                trace: Trace | None = None) -> dict[str, Decimal]:
    """CMRC points per calendar year, from 2024-01-01 only.

    Each month: (tranche A up to the ceiling x 7.87 % + tranche B from the ceiling up to
    8 x the ceiling x 21.59 %) / reference salary in force; ceilings prorated for a month
    worked in part; the year's total rounded to 2 decimals.
    """
    return cmrc_accrual(Context(params, trace), periods).points_by_year


def carti_accrual(ctx: Context, periods: Iterable[Period | Mapping[str, Any]]) -> Accrual:
    months = self_employed_months(periods)
    totals: dict[str, Decimal] = {}
    declared: dict[str, bool] = {}
    for month, (klass, origin) in months.items():
        label = str(month.year)
        points = ctx.get(f"carti_points_per_month_class_{klass}", month)
        totals[label] = totals.get(label, ZERO) + points
        declared[label] = declared.get(label, True) and origin == DECLARED
    return Accrual(CARTI, {k: rounded(v) for k, v in totals.items()}, tuple(months),
                   sum(1 for _, origin in months.values() if origin == PROJECTED),
                   _origins(declared))


def carti_points(periods: Iterable[Period | Mapping[str, Any]], params: Parameters | None = None,
                 trace: Trace | None = None) -> dict[str, Decimal]:
    """CARTI points per calendar year: class N earns N points for each month contributed
    (a month with any day of self-employment counts once, in one class)."""
    return carti_accrual(Context(params, trace), periods).points_by_year


def accrual_of(scheme: str, periods: Iterable[Period | Mapping[str, Any]],
               params: Parameters | None = None, trace: Trace | None = None) -> Accrual:
    """The scheme's points computed from the periods (see `recorded.with_recorded` for the
    fund's own figures)."""
    compute = {CAR: car_accrual, CMRC: cmrc_accrual, CARTI: carti_accrual}[scheme]
    return compute(Context(params, trace), periods)
