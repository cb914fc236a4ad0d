"""Worked examples of the pension rules, computed by hand (derivations in the comments).

Parameter figures used (services/pension/parameters):
- CAR base salary 1,376.00 from 2022-10-01, 1,460.00 from 2023-10-01, 1,507.00 from
  2024-10-01; beyond 2025-09-30 projected at +1.5 % a year; before 2022-10-01 reduced by
  1.5 % per year earlier.
- CAR point value 20.36 from 2022-10-01; later values follow the base salary.
- CAR employee rate 6.85 %; deferral +1.5 % per full quarter after the normal date.
- CMRC ceiling 3,864 (2024-01-01), 3,947 (2024-10-01); rates 7.87 % / 21.59 %; reference
  salary 24.9328 (2024-01-01), 25.4689 (2024-10-01).
- CARTI class N = N points a month; point value 17.480 from 2024-10-01.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.pension import simulator as rules
from services.pension.simulator import (
    CAR,
    CARTI,
    CMRC,
    EMPLOYEE,
    SELF_EMPLOYED,
    AnonymousSimulationSchema,
    Child,
    FutureAssumptions,
    MemberAssumptionsSchema,
    ParameterError,
    Parameters,
    Period,
    SimulationInputs,
    car_deferral,
    car_points,
    car_refund,
    carti_points,
    cmrc_month,
    cmrc_points,
    date_at_age,
    earliest_date,
    minimum_condition,
    months_with_activity,
    pension_amounts,
    project_career,
    simulate,
    validate_inputs,
    validate_member_inputs,
    years_with_activity,
)

D = Decimal
TODAY = date(2025, 1, 1)


def employee(start: str, end: str, salary: str | int) -> Period:
    return Period(EMPLOYEE, date.fromisoformat(start), date.fromisoformat(end), D(str(salary)))


def self_employed(start: str, end: str, klass: int) -> Period:
    return Period(SELF_EMPLOYED, date.fromisoformat(start), date.fromisoformat(end), None, klass)


def body(**over: object) -> dict:
    base: dict = {
        "date_of_birth": "1970-05-15",
        "sex": "M",
        "career": [{"kind": "employee", "monthly_gross_salary": "3000",
                    "start": "2000-01-01", "end": "2015-12-31"}],
        "retirement_age": 65,
    }
    if "retirement_date" in over and "retirement_age" not in over:
        del base["retirement_age"]
    base.update(over)
    return base


def errors_by_field(errors: list[dict[str, str]]) -> dict[str, str]:
    return {e["field"]: e["code"] for e in errors}


# --------------------------------------------------------------------------- parameters


def test_every_parameter_file_has_dated_sourced_entries_with_a_status() -> None:
    for path in sorted(rules.PARAMETERS_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        for name, spec in doc["parameters"].items():
            for entry in spec["entries"]:
                date.fromisoformat(entry["effective_from"])
                assert entry["source"].startswith("https://"), (path.name, name)
                assert entry["status"] in ("official", "unverified", "assumption")
                assert not isinstance(entry["value"], float), (path.name, name)


def test_value_on_picks_the_latest_entry_in_force() -> None:
    params = Parameters.load()
    assert params.value_on("car_base_salary", date(2023, 9, 30)).value == D("1376.00")
    in_force = params.value_on("car_base_salary", date(2023, 10, 1))
    assert (in_force.value, in_force.projected, in_force.status) == (D("1460.00"), False,
                                                                      "official")
    # 1,507 from 2024-10-01 is in force (derived from the ceiling: unverified) for a year
    last = params.value_on("car_base_salary", date(2025, 9, 30))
    assert (last.value, last.projected, last.status) == (D("1507.00"), False, "unverified")
    # constants never expire and are not projected
    rate = params.value_on("car_employee_rate", date(2060, 1, 1))
    assert (rate.value, rate.projected) == (D("0.0685"), False)


def test_values_beyond_the_last_entry_are_projected_and_marked() -> None:
    params = Parameters.load()
    # first anniversary of 2024-10-01: 1,507 x 1.015 = 1,529.605 -> 1,529.61
    projected = params.value_on("car_base_salary", date(2025, 10, 1))
    assert (projected.value, projected.projected, projected.status) == (
        D("1529.61"), True, "assumption")
    # two anniversaries: 1,507 x 1.015^2 = 1,552.549... -> 1,552.55
    assert params.value_on("car_base_salary", date(2026, 10, 1)).value == D("1552.55")
    # the point value follows the base salary: 20.36 x 1,460 / 1,376 = 21.6029 -> 21.60
    point = params.value_on("car_point_value", date(2023, 10, 1))
    assert (point.value, point.projected) == (D("21.60"), True)
    assert {b.name for b in point.basis} == {"car_base_salary"}
    # ...while 20.36 (unverified) is simply in force until the base salary changes
    assert params.value_on("car_point_value", date(2023, 9, 1)).value == D("20.36")
    # before the first known base salary: 1,376 / 1.015 = 1,355.665 -> 1,355.67
    back = params.value_on("car_base_salary", date(2022, 9, 1))
    assert (back.value, back.kind) == (D("1355.67"), "back_projected")
    with pytest.raises(ParameterError):
        params.value_on("carti_point_value", date(2020, 1, 1))


def test_load_rejects_a_float_value(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"parameters": {"x": {"entries": [
        {"effective_from": "2024-01-01", "value": 0.1, "status": "official",
         "source": "https://example.org"}]}}}))
    with pytest.raises(ParameterError, match="decimal string"):
        Parameters.load(tmp_path)


def test_load_reads_each_directory_once() -> None:
    assert Parameters.load() is Parameters.load(rules.PARAMETERS_DIR)


# --------------------------------------------------------------------------- CAR points


def test_a_full_year_at_the_base_salary_gives_12_points() -> None:
    # FY 2023/2024 (1 Oct 2023 - 30 Sep 2024): base 1,460; 12 x 1,460 / 1,460 = 12
    assert car_points([employee("2023-10-01", "2024-09-30", 1460)]) == {"2023/2024": D("12.00")}


def test_five_times_the_base_salary_is_capped_at_48_points() -> None:
    # 7,300 / 1,460 = 5 points a month, capped at 4: 12 x 4 = 48
    assert car_points([employee("2023-10-01", "2024-09-30", 7300)]) == {"2023/2024": D("48.00")}


def test_points_are_split_by_financial_year_with_the_base_salary_of_each_month() -> None:
    # Jan-Sep 2024: 9 x 1,460 / 1,460 = 9.00 (FY 2023/2024)
    # Oct-Dec 2024: 3 x 1,460 / 1,507 = 2.9064... -> 2.91 (FY 2024/2025)
    assert car_points([employee("2024-01-01", "2024-12-31", 1460)]) == {
        "2023/2024": D("9.00"), "2024/2025": D("2.91")}


def test_a_month_worked_in_part_counts_in_proportion_to_its_days() -> None:
    # 16 to 31 October 2023 = 16 of 31 days: 1,460 x 16/31 / 1,460 = 0.516 -> 0.52
    assert car_points([{"start": date(2023, 10, 16), "end": date(2023, 10, 31),
                        "monthly_gross_salary": D(1460)}]) == {"2023/2024": D("0.52")}


def test_the_doc_worked_example() -> None:
    # 1,000 points x 20.36 = 20,360.00 a year; / 12 = 1,696.666... -> 1,696.67
    assert pension_amounts(D(1000), D("20.36")) == (D("20360.00"), D("1696.67"))


# --------------------------------------------------------------------------- CMRC


def test_cmrc_splits_a_salary_above_the_ceiling_into_tranches() -> None:
    # March 2024, salary 10,000, ceiling 3,864:
    # A = 3,864 x 7.87 % = 304.0968; B = (10,000 - 3,864) x 21.59 % = 6,136 x 0.2159 = 1,324.7624
    # contribution 1,628.8592 / 24.9328 = 65.32997... points
    month = cmrc_month(D(10000), date(2024, 3, 1))
    assert (month.tranche_a, month.tranche_b) == (D(3864), D(6136))
    assert month.contribution == D("1628.8592")
    assert round(month.points, 4) == D("65.3300")


def test_cmrc_tranche_b_stops_at_8_times_the_ceiling() -> None:
    # 40,000 > 8 x 3,864 = 30,912: B = 30,912 - 3,864 = 27,048; 27,048 x 0.2159 = 5,839.6632
    month = cmrc_month(D(40000), date(2024, 3, 1))
    assert month.tranche_b == D(27048)
    assert month.contribution == D("304.0968") + D("5839.6632")


def test_cmrc_points_per_calendar_year_only_from_2024() -> None:
    # Jan-Sep 2024: 9 x 65.32997 = 587.9698
    # Oct-Dec 2024: (3,947 x 7.87 % + 6,053 x 21.59 %) / 25.4689 = 1,617.4716 / 25.4689
    #               = 63.50771 a month; x 3 = 190.5231
    # 2024: 778.4929 -> 778.49; 2023 earns nothing (the CMRC starts on 2024-01-01)
    points = cmrc_points([employee("2023-01-01", "2024-12-31", 10000)])
    assert points == {"2024": D("778.49")}


# --------------------------------------------------------------------------- CARTI


def test_carti_class_3_for_10_years_gives_360_points_and_its_pension() -> None:
    career = [self_employed("2015-01-01", "2024-12-31", 3)]
    # 12 months x 3 points = 36 a year, 10 years = 360
    points = carti_points(career)
    assert points["2015"] == D("36.00") and sum(points.values()) == D(360)
    # born 1960-02-10: 65 on 2025-02-10, pension from 2025-03-01; point value 17.480
    # (in force 2024-10-01 to 2025-09-30): 360 x 17.480 = 6,292.80 a year, 524.40 a month
    inputs = SimulationInputs(date(1960, 2, 10), "M", tuple(career), retirement_age=65,
                              today=TODAY)
    carti = simulate(inputs).schemes[CARTI]
    assert carti.outcome == "pension"
    assert (carti.points, carti.point_value, carti.point_value_projected) == (
        D(360), D("17.480"), False)
    assert (carti.annual_gross, carti.monthly_gross) == (D("6292.80"), D("524.40"))


def test_carti_needs_120_monthly_contributions() -> None:
    # 9 years = 108 months < 120
    inputs = SimulationInputs(date(1960, 2, 10), "M",
                              (self_employed("2016-01-01", "2024-12-31", 2),),
                              retirement_age=65, today=TODAY)
    carti = simulate(inputs).schemes[CARTI]
    assert carti.outcome == "not_eligible" and carti.monthly_gross == 0
    assert carti.eligibility.months == 108


def test_carti_points_keep_accruing_after_65_without_a_bonus() -> None:
    # class 1 from 2015 to the day before the pension; at 65 (2025-03-01): 122 months;
    # at 66 (2026-03-01) with the future class 1 until then: 134 months
    career = (self_employed("2015-01-01", "2024-12-31", 1),)
    future = FutureAssumptions(contribution_class=1)
    at_65 = simulate(SimulationInputs(date(1960, 2, 10), "M", career, retirement_age=65,
                                      future=future, today=TODAY)).schemes[CARTI]
    at_66 = simulate(SimulationInputs(date(1960, 2, 10), "M", career, retirement_age=66,
                                      future=future, today=TODAY)).schemes[CARTI]
    assert (at_65.points, at_66.points) == (D(122), D(134))
    assert at_66.increase_rate == 0


# --------------------------------------------------------------------------- eligibility


def test_months_and_years_with_activity() -> None:
    career = [employee("2014-07-01", "2014-12-31", 2000),
              employee("2015-01-15", "2015-02-01", 2000),
              self_employed("2015-03-01", "2015-03-31", 1)]
    # 2014: Jul-Dec = 6 months; 2015: Jan, Feb (one day counts) = 2 months
    assert months_with_activity(career, EMPLOYEE) == 8
    assert years_with_activity(career, EMPLOYEE) == 2
    assert months_with_activity(career, SELF_EMPLOYED) == 1


def test_car_condition_needs_10_calendar_years_and_60_months() -> None:
    # 10 calendar years with 6 months each (Jan-Jun): 60 months -> met
    career = [employee(f"{y}-01-01", f"{y}-06-30", 2000) for y in range(2000, 2010)]
    met = minimum_condition(CAR, career, TODAY)
    assert (met.met, met.years, met.months) == (True, 10, 60)
    # one month less in the last year: 59 months -> not met
    career[-1] = employee("2009-01-01", "2009-05-31", 2000)
    assert not minimum_condition(CAR, career, TODAY).met


def test_short_career_gets_the_refund_instead_of_a_pension() -> None:
    # 8 calendar years (2010-2017, 96 months) at 10,000 a month: every month is capped at
    # 4 points (10,000 is more than 4 base salaries), so 96 x 4 = 384 points.
    # 8 years < 10: no pension. Born 1959-11-10: 65 on 2024-11-10, request on 2024-12-01.
    # Refund = 384 x 6.85 % x 1,507.00 (base salary on 2024-12-01) = 26.304 x 1,507
    #        = 39,640.128 -> 39,640.13
    career = (employee("2010-01-01", "2017-12-31", 10000),)
    inputs = SimulationInputs(date(1959, 11, 10), "M", career, retirement_age=65,
                              today=date(2024, 6, 1))
    sim = simulate(inputs)
    result = sim.schemes[CAR]
    assert result.outcome == "refund"
    assert (result.points, result.eligibility.years, result.eligibility.months) == (D(384), 8, 96)
    assert result.monthly_gross == 0 and result.annual_gross == 0
    assert result.refund is not None
    assert (result.refund.amount, result.refund.request_date) == (D("39640.13"), date(2024, 12, 1))
    assert car_refund(D(384), date(2024, 12, 1)) == D("39640.13")
    assert sim.as_dict()["schemes"]["CAR"]["refund"]["amount"] == "39640.13"
    assert any("refunded once" in line for line in result.explanations)
    # at 66 (2025-12-01) the base salary is projected: 1,529.61; 26.304 x 1,529.61
    # = 40,234.86144 -> 40,234.86
    row_66 = next(r for r in sim.comparison if r.age == 66)
    assert row_66.refunds == {CAR: D("40234.86")}
    assert row_66.outcomes[CAR] == "refund" and row_66.monthly_gross[CAR] == 0


def test_refund_is_only_available_from_65() -> None:
    career = (employee("2010-01-01", "2017-12-31", 10000),)
    inputs = SimulationInputs(date(1964, 11, 10), "M", career, retirement_age=61,
                              today=date(2024, 6, 1))
    result = simulate(inputs).schemes[CAR]
    assert result.outcome == "not_eligible"
    assert result.refund is not None and result.refund.request_date == date(2029, 12, 1)


# --------------------------------------------------------------------------- ages


CHILDREN = (Child(date(1998, 6, 1), 16), Child(date(2000, 9, 1), 16), Child(date(2003, 2, 1), 12))


def test_the_mother_of_3_can_start_at_55() -> None:
    # born 1975-04-20: 55 on 2030-04-20 -> 2030-05-01; the third child reached 8 years
    # raised on 2011-02-01, long before. The online request opens the month before the
    # birthday: 2030-03-01.
    mother = earliest_date(CAR, date(1975, 4, 20), "F", CHILDREN, on=TODAY)
    assert (mother.date, mother.age, mother.rule) == (date(2030, 5, 1), 55, "mother")
    assert mother.request_opens == date(2030, 3, 1)
    assert earliest_date(CMRC, date(1975, 4, 20), "F", CHILDREN, on=TODAY).date == date(2030, 5, 1)
    # a father, or a mother of only 2 children raised 8 years: 60 -> 2035-05-01
    assert earliest_date(CAR, date(1975, 4, 20), "M", CHILDREN, on=TODAY).date == date(2035, 5, 1)
    two = (*CHILDREN[:2], Child(date(2003, 2, 1), 5))
    assert earliest_date(CAR, date(1975, 4, 20), "F", two, on=TODAY).date == date(2035, 5, 1)


def test_the_mother_date_waits_for_the_third_child_to_be_raised_8_years() -> None:
    # third child born 2024-03-15: 8 years on 2032-03-15 -> 2032-04-01, after 55 (2030-05-01)
    late = (*CHILDREN[:2], Child(date(2024, 3, 15), 8))
    mother = earliest_date(CAR, date(1975, 4, 20), "F", late, on=TODAY)
    assert (mother.date, mother.rule) == (date(2032, 4, 1), "mother")


def test_carti_ages() -> None:
    # 65 normally (2040-05-01); 60 with a recognised incapacity (2035-05-01)
    assert earliest_date(CARTI, date(1975, 4, 20), "F", CHILDREN, on=TODAY).date == date(2040, 5, 1)
    sick = earliest_date(CARTI, date(1975, 4, 20), "M", incapacity=True, on=TODAY)
    assert (sick.date, sick.rule) == (date(2035, 5, 1), "incapacity")


def test_age_means_the_first_day_of_the_month_after_the_birthday() -> None:
    assert date_at_age(date(1965, 3, 15), 60) == date(2025, 4, 1)
    assert date_at_age(date(1965, 3, 1), 60) == date(2025, 4, 1)
    assert date_at_age(date(1964, 2, 29), 61) == date(2025, 3, 1)  # 28 Feb 2025


# --------------------------------------------------------------------------- deferral


def test_car_deferral_after_65() -> None:
    # born 1959-11-10: normal date 2024-12-01; start 2025-07-01 = 7 months = 2 full quarters
    # -> 2 x 1.5 % = 3 %
    assert car_deferral(date(1959, 11, 10), date(2025, 7, 1)) == (2, D("0.030"))
    assert car_deferral(date(1959, 11, 10), date(2024, 12, 1)) == (0, D(0))
    # 40 years at 10,000 a month (1985-2024), always capped: 480 months x 4 = 1,920 points.
    # Point value on 2025-07-01: 20.36 x 1,507 / 1,376 = 22.298 -> 22.30 (projected).
    # Annual: 1,920 x 22.30 x 1.03 = 42,816 x 1.03 = 44,100.48; monthly 3,675.04
    inputs = SimulationInputs(date(1959, 11, 10), "M",
                              (employee("1985-01-01", "2024-12-31", 10000),),
                              retirement_date=date(2025, 7, 1), today=TODAY)
    car = simulate(inputs).schemes[CAR]
    assert (car.points, car.deferral_quarters, car.increase_rate) == (D(1920), 2, D("0.030"))
    assert (car.point_value, car.point_value_projected) == (D("22.30"), True)
    assert (car.annual_gross, car.monthly_gross) == (D("44100.48"), D("3675.04"))
    assert any("2 full quarter(s)" in line for line in car.explanations)


# --------------------------------------------------------------------------- simulation


def test_projection_marks_future_parameters_in_the_output() -> None:
    inputs, errors = validate_inputs(body(future_monthly_gross_salary="4000", retirement_age=66),
                                     today=TODAY)
    assert errors == [] and inputs is not None
    sim = simulate(inputs).as_dict()
    json.dumps(sim)  # JSON-ready as it is
    car = sim["schemes"]["CAR"]
    assert car["point_value_projected"] is True and car["point_value_status"] == "assumption"
    kinds = {(a["parameter"], a["kind"]) for a in sim["assumptions"]}
    assert ("car_point_value", "projected") in kinds
    assert ("car_base_salary", "back_projected") in kinds  # salaries of 2000-2015
    statuses = {a["parameter"]: a["status"] for a in sim["assumptions"]}
    assert statuses["car_deferral_increase_per_quarter"] == "unverified"
    assert statuses["projection_yearly_rate"] == "assumption"
    assert statuses["projection_salary_growth"] == "assumption"  # no growth was given
    assert all(a["source"].startswith("https://") for a in sim["assumptions"])
    assert any("is projected after its last known value" in line for line in sim["explanations"])
    # amounts are strings with 2 decimals
    assert car["monthly_gross"].count(".") == 1 and len(car["monthly_gross"].split(".")[1]) == 2
    assert sim["total"]["monthly_gross"] == str(
        sum(D(s["monthly_gross"]) for s in sim["schemes"].values()))


def test_cmrc_service_value_is_reported_as_an_assumption() -> None:
    # born 1960-02-10, salaried 2015-2024 then pension at 65 on 2025-03-01
    inputs = SimulationInputs(date(1960, 2, 10), "F", (employee("2015-01-01", "2024-12-31", 5000),),
                              retirement_age=65, today=TODAY)
    sim = simulate(inputs)
    notes = {(a.parameter, a.kind): a for a in sim.assumptions}
    assert ("cmrc_service_value", "projected") in notes  # indexed on the reference salary
    assert ("cmrc_condition_counts_all_salaried_periods", "entry") in notes
    assert sim.schemes[CMRC].outcome == "pension"


def test_future_salary_is_projected_to_the_stop_date_with_growth() -> None:
    inputs = SimulationInputs(
        date(1970, 5, 15), "M", (employee("2000-01-01", "2025-03-31", 3000),),
        retirement_age=65,
        future=FutureAssumptions(monthly_gross_salary=D(4000), yearly_salary_growth=D("0.1"),
                                 stop_date=date(2026, 12, 31)),
        today=TODAY,
    )
    career, stop, _ = project_career(inputs, date(2035, 6, 1))
    projected = [p for p in career if p.origin == "projected"]
    # starts the day after the last period; +10 % on its anniversary; stops on the stop date
    assert stop == date(2026, 12, 31)
    assert [(p.start, p.end, p.monthly_gross_salary) for p in projected] == [
        (date(2025, 4, 1), date(2026, 3, 31), D("4000.00")),
        (date(2026, 4, 1), date(2026, 12, 31), D("4400.00")),
    ]


def test_comparison_runs_from_the_earliest_age_to_70() -> None:
    inputs, _ = validate_inputs(body(future_monthly_gross_salary="4000"), today=TODAY)
    assert inputs is not None
    sim = simulate(inputs)
    assert [r.age for r in sim.comparison] == list(range(60, 71))
    totals = [r.total_monthly_gross for r in sim.comparison]
    assert totals == sorted(totals)  # working and deferring longer never pays less here
    row = sim.comparison[5]
    assert (row.age, row.total_monthly_gross) == (65, sim.total_monthly_gross)


def test_a_scheme_before_its_earliest_date_pays_nothing_yet() -> None:
    # a man at 58: neither CAR nor CMRC before 60
    inputs, _ = validate_inputs(body(retirement_age=58), today=TODAY)
    assert inputs is not None
    car = simulate(inputs).schemes[CAR]
    assert car.outcome == "not_yet_available" and car.monthly_gross == 0


# --------------------------------------------------------------------------- validation


def test_valid_body_gives_inputs() -> None:
    inputs, errors = validate_inputs(body(
        career=[{"kind": "employee", "monthly_gross_salary": 3000.5, "start": "2000-01-01",
                 "end": "2009-12-31"},
                {"kind": "self_employed", "class": 2, "start": "2005-01-01", "end": "2020-12-31"}],
        children=[{"birth_date": "1999-01-01", "years_raised_before_16": 10}],
        yearly_salary_growth="0.02", stop_date="2030-12-31", incapacity=True),
        today=TODAY)
    assert errors == []
    assert inputs is not None
    assert inputs.career[0].monthly_gross_salary == D("3000.5")
    assert inputs.career[1].contribution_class == 2
    assert inputs.future.yearly_salary_growth == D("0.02") and inputs.incapacity is True
    assert inputs.children == (Child(date(1999, 1, 1), 10),)


@pytest.mark.parametrize(("over", "field", "code"), [
    ({"date_of_birth": "2030-01-01"}, "date_of_birth", "in_future"),
    ({"date_of_birth": "1970-02-30"}, "date_of_birth", "invalid_date"),
    ({"retirement_age": 40}, "retirement_age", "out_of_range"),
    ({"retirement_age": None}, "retirement_age", "null"),
    ({"retirement_age": 65, "retirement_date": "2035-06-01"}, "retirement_date", "exclusive"),
    ({"retirement_date": "2010-06-01"}, "retirement_date", "out_of_range"),
    ({"date_of_birth": "1955-01-01"}, "retirement_age", "in_past"),  # 65 in 2020
    ({"sex": "X"}, "sex", "not_allowed"),
    ({"career": [{"kind": "employee", "monthly_gross_salary": "-1", "start": "2000-01-01",
                  "end": "2001-01-01"}]}, "career.0.monthly_gross_salary", "negative"),
    ({"career": [{"kind": "employee", "monthly_gross_salary": "1", "start": "2001-01-01",
                  "end": "2000-01-01"}]}, "career.0.end", "end_before_start"),
    ({"career": [{"kind": "employee", "monthly_gross_salary": "1", "start": "2000-13-01",
                  "end": "2001-01-01"}]}, "career.0.start", "invalid_date"),
    ({"career": [{"kind": "self_employed", "class": 5, "start": "2000-01-01",
                  "end": "2001-01-01"}]}, "career.0.class", "not_allowed"),
    ({"career": [{"kind": "self_employed", "start": "2000-01-01", "end": "2001-01-01"}]},
     "career.0.class", "required"),
    ({"career": [{"kind": "employee", "start": "2000-01-01", "end": "2001-01-01"}]},
     "career.0.monthly_gross_salary", "required"),
    ({"career": [{"kind": "employee", "monthly_gross_salary": "1", "start": "1960-01-01",
                  "end": "2001-01-01"}]}, "career.0.start", "before_birth"),
    ({"yearly_salary_growth": "0.3"}, "yearly_salary_growth", "out_of_range"),
    ({"future_monthly_gross_salary": "-5"}, "future_monthly_gross_salary", "negative"),
    ({"future_class": 0}, "future_class", "not_allowed"),
    ({"stop_date": "2040-01-01"}, "stop_date", "after_retirement"),
    ({"children": [{"birth_date": "2031-01-01", "years_raised_before_16": 1}]},
     "children.0.birth_date", "in_future"),
    ({"children": [{"birth_date": "2000-01-01", "years_raised_before_16": 17}]},
     "children.0.years_raised_before_16", "out_of_range"),
    ({"surprise": 1}, "surprise", "unknown_field"),
])
def test_each_validation_error_names_its_field(over: dict, field: str, code: str) -> None:
    inputs, errors = validate_inputs(body(**over), today=TODAY)
    assert inputs is None
    assert errors_by_field(errors).get(field) == code, errors
    assert all(set(e) == {"field", "code", "detail"} and e["detail"] for e in errors)


def test_retirement_age_or_date_is_required() -> None:
    raw = body()
    del raw["retirement_age"]
    _, errors = validate_inputs(raw, today=TODAY)
    assert errors_by_field(errors) == {"retirement_age": "required"}


def test_overlapping_periods_of_one_kind_are_refused_but_not_across_kinds() -> None:
    career = [
        {"kind": "employee", "monthly_gross_salary": "1",
         "start": "2000-01-01", "end": "2005-12-31"},
        {"kind": "employee", "monthly_gross_salary": "1",  # shares 31 Dec 2005 with period 0
         "start": "2005-12-31", "end": "2008-01-01"},
        {"kind": "self_employed", "class": 1, "start": "2001-01-01", "end": "2003-01-01"},
    ]
    _, errors = validate_inputs(body(career=career), today=TODAY)
    assert errors_by_field(errors) == {"career.1.start": "overlap"}


def test_a_retirement_date_is_moved_to_the_first_of_the_next_month() -> None:
    inputs, errors = validate_inputs(body(retirement_date="2035-06-15"), today=TODAY)
    assert errors == [] and inputs is not None
    sim = simulate(inputs)
    assert sim.retirement_date == date(2035, 7, 1)
    assert any("moved to the first day" in line for line in sim.explanations)


@pytest.mark.parametrize("day", ["9999-12-02", "9999-12-15", "9999-12-31"])
def test_a_retirement_date_in_the_last_days_of_9999_is_a_field_error(day: str) -> None:
    inputs, errors = validate_inputs(body(retirement_date=day), today=TODAY)
    assert inputs is None
    assert errors_by_field(errors) == {"retirement_date": "out_of_range"}
    _, errors = validate_member_inputs({"retirement_date": day},
                                       date_of_birth=date(1970, 5, 15), sex="F", today=TODAY)
    assert errors_by_field(errors) == {"retirement_date": "out_of_range"}


def test_member_variant_takes_assumptions_only() -> None:
    recorded = [{"kind": "employee", "start": date(2000, 1, 1), "end": date(2020, 12, 31),
                 "monthly_gross_salary": D(3000)}]
    inputs, errors = validate_member_inputs(
        {"retirement_age": 64, "future_monthly_gross_salary": 3500, "stop_date": "2030-12-31"},
        date_of_birth=date(1970, 5, 15), sex="F", career=recorded, today=TODAY)
    assert errors == [] and inputs is not None
    assert inputs.career[0].origin == "recorded"
    assert simulate(inputs).stop_date == date(2030, 12, 31)
    _, errors = validate_member_inputs({"retirement_age": 64, "career": []},
                                       date_of_birth=date(1970, 5, 15), sex="F", today=TODAY)
    assert errors_by_field(errors) == {"career": "unknown_field"}
    _, errors = validate_member_inputs({"retirement_age": 40}, date_of_birth=date(1970, 5, 15),
                                       sex="F", today=TODAY)
    assert errors_by_field(errors) == {"retirement_age": "out_of_range"}


def test_schemas_are_exported_for_the_routes() -> None:
    assert {"date_of_birth", "sex", "career", "retirement_age", "retirement_date", "children",
            "incapacity", "future_monthly_gross_salary", "future_class",
            "yearly_salary_growth", "stop_date"} == set(AnonymousSimulationSchema().fields)
    assert "career" not in MemberAssumptionsSchema().fields


def test_the_service_refuses_to_start_on_a_malformed_parameter_file(tmp_path, monkeypatch):
    import shutil

    from services.kit.config import StartRefused
    from services.pension import simulator as pension_rules
    from services.pension.service import PensionParameters

    good, bad = tmp_path / "good", tmp_path / "bad"
    for directory in (good, bad):
        directory.mkdir()
        for path in pension_rules.PARAMETERS_DIR.glob("*.json"):
            shutil.copy(path, directory / path.name)
    (bad / "zz-extra.json").write_text('{"parameters": ')
    provider = PensionParameters()
    monkeypatch.setattr(pension_rules, "PARAMETERS_DIR", good)
    provider.setup()  # the shipped files load
    assert "car_point_value" in provider.parameters.names()
    monkeypatch.setattr(pension_rules, "PARAMETERS_DIR", bad)
    with pytest.raises(StartRefused, match=r"zz-extra\.json"):
        provider.setup()
