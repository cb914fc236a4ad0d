"""What the fund recorded: points per scheme and year, and assimilated periods.

The fund's figures prevail over anything these rules compute: up to the last year the fund
recorded for a scheme, a year it recorded counts with its recorded points; a year with
periods but no recorded points is computed and marked projected; every year after the
last recorded one is computed from the periods (and the assumed future) and is projected.
Points credited for assimilated periods (sickness, maternity, unemployment, military
service, invalidity) are added as the fund credited them, and their months count for the
CAR and CMRC minimum condition ("actual or assimilated work").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from services.pension.simulator.accrual import PROJECTED, RECORDED, Accrual
from services.pension.simulator.calendar import Period
from services.pension.simulator.figures import CAR, CARTI, CMRC, EMPLOYEE, ZERO

ASSIMILATED_REASONS = ("sickness", "maternity", "unemployment", "military_service",
                       "invalidity")
ASSIMILATED = "assimilated"  # the origin of the periods made from them for the condition


@dataclass(frozen=True)
class RecordedYear:
    """The points the fund recorded for one scheme and year ("2023/2024" for the CAR's
    financial year, "2024" for the CMRC and the CARTI)."""

    scheme: str
    year: str
    points: Decimal


@dataclass(frozen=True)
class AssimilatedPeriod:
    """A compensated interruption and the points the fund credited for it."""

    scheme: str
    reason: str
    start: date
    end: date
    points: Decimal


@dataclass(frozen=True)
class RecordedCareer:
    years: tuple[RecordedYear, ...] = ()
    assimilated: tuple[AssimilatedPeriod, ...] = ()

    def years_of(self, scheme: str) -> dict[str, Decimal]:
        return {y.year: y.points for y in sorted(self.years, key=lambda y: y.year)
                if y.scheme == scheme}

    def assimilated_of(self, scheme: str) -> tuple[AssimilatedPeriod, ...]:
        return tuple(a for a in self.assimilated if a.scheme == scheme)

    def condition_periods(self, scheme: str) -> list[Period]:
        """The assimilated months the CAR and CMRC minimum condition counts, as periods
        without salary (the CARTI counts monthly contributions only)."""
        if scheme == CARTI:
            return []
        return [Period(EMPLOYEE, a.start, a.end, ZERO, None, ASSIMILATED)
                for a in self.assimilated_of(scheme) if a.end >= a.start]


def recorded_career(years: Iterable[RecordedYear] = (),
                    assimilated: Iterable[AssimilatedPeriod] = ()) -> RecordedCareer:
    return RecordedCareer(tuple(years), tuple(assimilated))


def with_recorded(accrual: Accrual, recorded: RecordedCareer, stop: date | None = None
                  ) -> Accrual:
    """The accrual with the fund's figures in place of the computed ones, up to the last
    recorded year; assimilated periods starting after `stop` (if given) are left out."""
    years = recorded.years_of(accrual.scheme)
    assimilated = [a for a in recorded.assimilated_of(accrual.scheme)
                   if stop is None or a.start <= stop]
    if not years and not assimilated:
        return accrual
    last = max(years) if years else None
    points = dict(accrual.points_by_year)
    origins = dict(accrual.origins)
    for label, value in years.items():
        points[label] = value
        origins[label] = RECORDED
    for label in points:
        if origins.get(label) != RECORDED:
            origins[label] = PROJECTED  # computed: not the fund's figure
    ordered = sorted(points)
    return replace(accrual, points_by_year={k: points[k] for k in ordered},
                   origins={k: origins[k] for k in ordered},
                   assimilated_points=sum((a.points for a in assimilated), ZERO),
                   last_recorded_year=last)


SCHEME_YEAR_FORMAT = {CAR: "YYYY/YYYY+1 (financial year from 1 October)", CMRC: "YYYY",
                      CARTI: "YYYY"}


def year_label_error(scheme: str, label: str, cmrc_start: date) -> str | None:
    """Why a recorded year's label is not one of the scheme's years, or None."""
    if scheme == CAR:
        first, sep, second = label.partition("/")
        if not (sep and len(first) == 4 and first.isdigit()
                and second == str(int(first) + 1)):
            return "A CAR year is a financial year, written like 2023/2024."
        return None
    if not (len(label) == 4 and label.isdigit()):
        return f"A {scheme} year is a calendar year, written like 2024."
    if scheme == CMRC and int(label) < cmrc_start.year:
        return f"The CMRC starts in {cmrc_start.year}."
    return None
