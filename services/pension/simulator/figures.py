"""The simulator's vocabulary and its own bounds, and how figures are rounded and shown.

All arithmetic is Decimal. Rounding (ROUND_HALF_UP) happens only where stated: points to
2 decimals per year (CAR financial year, CMRC/CARTI calendar year) and amounts to cents
(annual = points x point value x (1 + increase), rounded; monthly = rounded annual / 12,
rounded). Nothing regulatory is a literal here: every figure the law or the funds publish
lives in `parameters/*.json` (see `parameters.py`).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.contracts.simulation import (  # noqa: F401  (re-exported for the simulator)
    EARLIEST_DATE,
    EMPLOYEE,
    KINDS,
    LATEST_DATE,
    MAX_CAREER_PERIODS,
    MAX_CHILDREN,
    MAX_MONTHLY_SALARY,
    MAX_RETIREMENT_AGE,
    MAX_YEARLY_SALARY_GROWTH,
    MAX_YEARS_RAISED,
    MIN_RETIREMENT_AGE,
    SELF_EMPLOYED,
    SEXES,
)

CAR, CMRC, CARTI = "CAR", "CMRC", "CARTI"
SCHEMES = (CAR, CMRC, CARTI)
ORIGINS = ("recorded", "declared", "projected")
CLASSES = (1, 2, 3, 4)


# The simulator's own bounds (product choices, not regulatory figures); those of its
# inputs are public (services.contracts.simulation), re-exported here.
COMPARISON_LAST_AGE = 70


ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")

# Outcomes of a scheme at a retirement date.
PENSION = "pension"
REFUND = "refund"
NOT_ELIGIBLE = "not_eligible"
NOT_YET_AVAILABLE = "not_yet_available"
NO_ACTIVITY = "no_activity"


def rounded(value: Decimal, quantum: Decimal = CENT) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    return f"{rounded(value):,.2f} EUR"


def num(value: Decimal) -> str:
    """A parameter value as published (keeps its decimals), with thousands separators."""
    return f"{value:,}"


def pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def shown(value: Decimal, unit: str) -> str:
    if unit == "rate":
        return pct(value)
    if unit == "flag":
        return "yes" if value else "no"
    return f"{num(value)} {unit}".rstrip()


def month_name(d: date) -> str:
    return d.strftime("%B %Y")
