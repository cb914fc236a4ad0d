"""The pension simulator: pure rules of CAR, CMRC and CARTI (Monaco), no I/O but reading the
parameter files, no service framework.

One module per seam, read in this order: `figures` (vocabulary, bounds, rounding),
`parameters` (the versioned regulatory figures), `explanations` (what was used and why),
`calendar` (dates, months a career covers), `accrual` (points per scheme), `eligibility`
(minimum condition, earliest date), `projection` (the career counted, future activity),
`recorded` (the fund's own figures), `amounts` (what a scheme pays), `simulation`
(everything at a date, and the comparison), `inputs` (the request bodies, checked).
This package re-exports what callers use.
"""

from services.pension.simulator.accrual import (
    Accrual,
    CmrcMonth,
    accrual_of,
    car_points,
    carti_points,
    cmrc_month,
    cmrc_points,
    cmrc_start,
)
from services.pension.simulator.amounts import (
    Refund,
    SchemeResult,
    car_deferral,
    car_refund,
    pension_amounts,
)
from services.pension.simulator.calendar import (
    Child,
    Period,
    age_on,
    birthday,
    date_at_age,
    financial_year,
    first_of_month_after,
    months_with_activity,
    normalise_retirement_date,
    years_with_activity,
)
from services.pension.simulator.eligibility import (
    EarliestDate,
    Eligibility,
    earliest_date,
    minimum_condition,
)
from services.pension.simulator.explanations import AssumptionNote, Trace
from services.pension.simulator.figures import (
    CAR,
    CARTI,
    CMRC,
    EMPLOYEE,
    KINDS,
    MAX_CHILDREN,
    NO_ACTIVITY,
    NOT_ELIGIBLE,
    NOT_YET_AVAILABLE,
    PENSION,
    REFUND,
    SCHEMES,
    SELF_EMPLOYED,
)
from services.pension.simulator.inputs import (
    AnonymousSimulationSchema,
    ChildSchema,
    MemberAssumptionsSchema,
    field_errors,
    retirement_date_check,
    validate_inputs,
    validate_member_inputs,
)
from services.pension.simulator.parameters import (
    PARAMETERS_DIR,
    ParameterError,
    Parameters,
    ParamValue,
)
from services.pension.simulator.projection import (
    FutureAssumptions,
    SimulationInputs,
    project_career,
)
from services.pension.simulator.recorded import (
    AssimilatedPeriod,
    RecordedCareer,
    RecordedYear,
    recorded_career,
    with_recorded,
)
from services.pension.simulator.simulation import ComparisonRow, Simulation, simulate

__all__ = [
    "CAR",
    "CARTI",
    "CMRC",
    "EMPLOYEE",
    "KINDS",
    "MAX_CHILDREN",
    "NOT_ELIGIBLE",
    "NOT_YET_AVAILABLE",
    "NO_ACTIVITY",
    "PARAMETERS_DIR",
    "PENSION",
    "REFUND",
    "SCHEMES",
    "SELF_EMPLOYED",
    "Accrual",
    "AnonymousSimulationSchema",
    "AssimilatedPeriod",
    "AssumptionNote",
    "Child",
    "ChildSchema",
    "CmrcMonth",
    "ComparisonRow",
    "EarliestDate",
    "Eligibility",
    "FutureAssumptions",
    "MemberAssumptionsSchema",
    "ParamValue",
    "ParameterError",
    "Parameters",
    "Period",
    "RecordedCareer",
    "RecordedYear",
    "Refund",
    "SchemeResult",
    "Simulation",
    "SimulationInputs",
    "Trace",
    "accrual_of",
    "age_on",
    "birthday",
    "car_deferral",
    "car_points",
    "car_refund",
    "carti_points",
    "cmrc_month",
    "cmrc_points",
    "cmrc_start",
    "date_at_age",
    "earliest_date",
    "field_errors",
    "financial_year",
    "first_of_month_after",
    "minimum_condition",
    "months_with_activity",
    "normalise_retirement_date",
    "pension_amounts",
    "project_career",
    "recorded_career",
    "retirement_date_check",
    "simulate",
    "validate_inputs",
    "validate_member_inputs",
    "with_recorded",
    "years_with_activity",
]
