"""A simulation: every scheme at the chosen date, the comparison by age, and what it
rests on (assumptions and sources)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from services.pension.simulator.amounts import SchemeResult, scheme_result
from services.pension.simulator.calendar import Period, age_on, date_at_age
from services.pension.simulator.explanations import (
    RULE_ASSUMPTIONS,
    AssumptionNote,
    Context,
    Trace,
)
from services.pension.simulator.figures import (
    COMPARISON_LAST_AGE,
    NO_ACTIVITY,
    PENSION,
    REFUND,
    SCHEMES,
    ZERO,
    money,
    rounded,
)
from services.pension.simulator.parameters import Parameters
from services.pension.simulator.projection import SimulationInputs, project_in
from services.pension.simulator.survivors import survivor_information


@dataclass(frozen=True)
class ComparisonRow:
    age: int
    retirement_date: date
    monthly_gross: dict[str, Decimal]
    outcomes: dict[str, str]
    refunds: dict[str, Decimal]

    @property
    def total_monthly_gross(self) -> Decimal:
        return sum(self.monthly_gross.values(), ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {"age": self.age, "retirement_date": self.retirement_date.isoformat(),
                "monthly_gross": {k: str(rounded(v)) for k, v in self.monthly_gross.items()},
                "total_monthly_gross": str(rounded(self.total_monthly_gross)),
                "outcomes": dict(self.outcomes),
                "refunds": {k: str(rounded(v)) for k, v in self.refunds.items()}}


@dataclass(frozen=True)
class Simulation:
    as_of: date
    date_of_birth: date
    sex: str
    retirement_date: date
    retirement_age: tuple[int, int]
    stop_date: date
    schemes: dict[str, SchemeResult]
    comparison: tuple[ComparisonRow, ...]
    assumptions: tuple[AssumptionNote, ...]
    sources: tuple[dict[str, Any], ...]
    explanations: tuple[str, ...]
    survivor: dict[str, Any] = field(default_factory=dict)
    rule_assumptions: tuple[dict[str, str], ...] = RULE_ASSUMPTIONS

    @property
    def total_annual_gross(self) -> Decimal:
        return sum((s.annual_gross for s in self.schemes.values()), ZERO)

    @property
    def total_monthly_gross(self) -> Decimal:
        return sum((s.monthly_gross for s in self.schemes.values()), ZERO)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts and points as strings with 2 decimals, dates ISO."""
        years, months = self.retirement_age
        return {
            "as_of": self.as_of.isoformat(),
            "date_of_birth": self.date_of_birth.isoformat(),
            "sex": self.sex,
            "retirement_date": self.retirement_date.isoformat(),
            "retirement_age": {"years": years, "months": months},
            "stop_date": self.stop_date.isoformat(),
            "currency": "EUR",
            "schemes": {k: v.as_dict() for k, v in self.schemes.items()},
            "total": {"annual_gross": str(rounded(self.total_annual_gross)),
                      "monthly_gross": str(rounded(self.total_monthly_gross))},
            "comparison": [row.as_dict() for row in self.comparison],
            "assumptions": [a.as_dict() for a in self.assumptions],
            "rule_assumptions": [dict(r) for r in self.rule_assumptions],
            "survivor": self.survivor,
            "sources": list(self.sources),
            "explanations": list(self.explanations),
        }


@dataclass(frozen=True)
class _Scenario:
    retirement_date: date
    stop_date: date
    career: tuple[Period, ...]
    schemes: dict[str, SchemeResult]
    notes: tuple[str, ...]


def _scenario(ctx: Context, inputs: SimulationInputs, retirement_date: date) -> _Scenario:
    career, stop, notes = project_in(ctx, inputs, retirement_date)
    schemes = {s: scheme_result(ctx, inputs, s, career, retirement_date) for s in SCHEMES}
    return _Scenario(retirement_date, stop, tuple(career), schemes, tuple(notes))


def simulate(inputs: SimulationInputs, params: Parameters | None = None) -> Simulation:
    """Project the career, then compute each scheme at the retirement date, and compare
    retirement at each whole age from the earliest to 70 (ages whose date is past skipped)."""
    trace = Trace()
    ctx = Context(params, trace)
    retirement = inputs.resolved_retirement_date()
    main = _scenario(ctx, inputs, retirement)

    active = [r.earliest.age for r in main.schemes.values() if r.outcome != NO_ACTIVITY]
    first_age = min(active) if active else ctx.whole("car_cmrc_earliest_age", inputs.today)
    rows: list[ComparisonRow] = []
    for age in range(first_age, COMPARISON_LAST_AGE + 1):
        day = date_at_age(inputs.date_of_birth, age)
        if day < inputs.today:
            continue
        sc = main if day == retirement else _scenario(ctx, inputs, day)
        rows.append(ComparisonRow(
            age, day,
            {s: r.monthly_gross for s, r in sc.schemes.items()},
            {s: r.outcome for s, r in sc.schemes.items()},
            {s: r.refund.amount for s, r in sc.schemes.items()
             if r.refund is not None and r.outcome == REFUND},
        ))

    years, months = age_on(inputs.date_of_birth, retirement)
    lines: list[str] = []
    how = (f"at the age you chose ({inputs.retirement_age})" if inputs.retirement_age is not None
           else "on the date you chose")
    lines.append(f"Pension start {how}: {retirement.isoformat()}, aged {years} years and "
                 f"{months} month(s); pensions start on the first day of a month, the month "
                 f"after the birthday.")
    if inputs.retirement_date is not None and inputs.retirement_date != retirement:
        lines.append(f"The date you gave, {inputs.retirement_date.isoformat()}, is moved to "
                     f"the first day of the next month, {retirement.isoformat()}.")
    lines.append(f"Activity is counted up to {main.stop_date.isoformat()}"
                 f"{' (your stop date)' if inputs.future.stop_date == main.stop_date else ''}.")
    lines.extend(main.notes)
    paying = [s for s, r in main.schemes.items() if r.outcome == PENSION]
    total_m = sum((main.schemes[s].monthly_gross for s in paying), ZERO)
    total_a = sum((main.schemes[s].annual_gross for s in paying), ZERO)
    credited = ("points the fund credited for compensated interruptions (sickness, "
                "maternity, unemployment, military service, invalidity) count as recorded"
                if inputs.recorded is not None else
                "points credited for compensated interruptions (sickness, maternity, "
                "invalidity, unemployment) are not simulated")
    lines.append(f"Total: {money(total_m)} gross a month ({money(total_a)} a year) from "
                 f"{', '.join(paying) if paying else 'no scheme'}. Amounts are gross, before "
                 f"social contributions and tax; {credited}.")
    if rows:
        lines.append(f"The comparison shows the total monthly amount for a pension starting at "
                     f"each whole age from {rows[0].age} to {COMPARISON_LAST_AGE}, with the "
                     f"activity continuing until then unless you gave a stop date.")
    survivor = survivor_information(ctx, main.schemes, retirement)
    lines.extend(survivor["explanations"])
    notes = trace.assumptions(ctx.params)
    lines.extend(n.detail for n in notes)
    lines.extend(f"Assumed rule: {r['detail']}" for r in RULE_ASSUMPTIONS)
    return Simulation(
        as_of=inputs.today, date_of_birth=inputs.date_of_birth, sex=inputs.sex,
        retirement_date=retirement, retirement_age=(years, months),
        stop_date=main.stop_date, schemes=main.schemes, comparison=tuple(rows),
        assumptions=tuple(notes), sources=tuple(trace.sources(ctx.params)),
        explanations=tuple(lines), survivor=survivor,
    )
