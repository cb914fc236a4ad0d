"""The fund's recorded figures, assumptions said out loud, survivors, the statement's content
and the request types' JSON Schema, without a database (issue 21)."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator

from services.pension import applications, simulator, statement
from services.pension.career import Record
from services.pension.simulator import (
    CAR,
    CARTI,
    CMRC,
    Period,
    SimulationInputs,
    accrual_of,
    simulate,
    with_recorded,
)
from services.pension.simulator.explanations import RULE_ASSUMPTIONS, qualifier
from services.pension.simulator.recorded import (
    AssimilatedPeriod,
    RecordedYear,
    recorded_career,
    year_label_error,
)

D = Decimal
TODAY = date(2026, 12, 1)
# salaried from October 2015: CAR financial years 2015/2016 onwards, CMRC from 2024
PERIODS = (Period("employee", date(2015, 10, 1), date(2026, 11, 30), D(3000), None,
                  "recorded"),)
RECORDED = recorded_career(
    [RecordedYear(CAR, "2015/2016", D("10.00")), RecordedYear(CAR, "2017/2018", D("20.00")),
     RecordedYear(CMRC, "2024", D("50.00"))],
    [AssimilatedPeriod(CAR, "sickness", date(2016, 2, 1), date(2016, 3, 31), D("5.50"))])


def test_recorded_years_replace_the_computed_ones_up_to_the_last_and_the_rest_is_projected():
    computed = accrual_of(CAR, PERIODS)
    merged = with_recorded(computed, RECORDED)
    assert merged.points_by_year["2015/2016"] == D("10.00")
    assert merged.points_by_year["2017/2018"] == D("20.00")
    # a year with periods but no recorded figure keeps the computed points, marked projected
    assert merged.points_by_year["2016/2017"] == computed.points_by_year["2016/2017"]
    assert merged.origins["2016/2017"] == "projected"
    assert merged.origins["2018/2019"] == "projected"  # after the last recorded year
    assert merged.origins["2015/2016"] == merged.origins["2017/2018"] == "recorded"
    assert merged.last_recorded_year == "2017/2018"
    assert merged.points_of("recorded") == D("30.00")
    assert merged.assimilated_points == D("5.50")
    assert merged.points == merged.activity_points + D("5.50")
    # nothing recorded for the CARTI: unchanged
    carti = accrual_of(CARTI, PERIODS)
    assert with_recorded(carti, RECORDED) == carti


def test_a_recorded_year_without_periods_still_counts():
    merged = with_recorded(accrual_of(CAR, ()), recorded_career(
        [RecordedYear(CAR, "1999/2000", D("40.00"))]))
    assert merged.points_by_year == {"1999/2000": D("40.00")}
    assert merged.origins == {"1999/2000": "recorded"}


def test_declared_years_are_declared_and_the_future_is_projected():
    declared = (Period("employee", date(2015, 1, 1), date(2020, 12, 31), D(3000)),)
    future = Period("employee", date(2024, 1, 1), date(2024, 12, 31), D(3000), None,
                    "projected")
    accrual = accrual_of(CMRC, (*declared, future))
    assert accrual.origins == {"2024": "projected"}
    assert set(accrual_of(CAR, declared).origins.values()) == {"declared"}


def test_year_labels_follow_each_scheme():
    start = date(2024, 1, 1)
    assert year_label_error(CAR, "2023/2024", start) is None
    assert year_label_error(CAR, "2023/2025", start)
    assert year_label_error(CAR, "2023", start)
    assert year_label_error(CMRC, "2024", start) is None
    assert "starts in 2024" in year_label_error(CMRC, "2023", start)
    assert year_label_error(CARTI, "1999", start) is None
    assert year_label_error(CARTI, "1999/2000", start)


def member_inputs(**kw):
    return SimulationInputs(date(1966, 5, 20), "F", PERIODS, today=TODAY,
                            recorded=RECORDED, **kw)


def test_assimilated_months_count_for_the_condition_but_not_the_refund():
    # a short career: 2 years of work and 2 months of sickness; not the 10 years needed
    short = (Period("employee", date(2024, 1, 1), date(2025, 12, 31), D(3000), None,
                    "recorded"),)
    rec = recorded_career([], [AssimilatedPeriod(CAR, "sickness", date(2023, 1, 1),
                                                 date(2023, 2, 28), D("7.00"))])
    sim = simulate(SimulationInputs(date(1960, 1, 10), "M", short, retirement_age=67,
                                    today=TODAY, recorded=rec))
    car = sim.schemes[CAR]
    assert car.eligibility.months == 26 and car.eligibility.years == 3
    assert car.outcome == "refund"
    assert car.refund.points == car.points - D("7.00")  # points from activity only


def test_a_member_simulation_says_which_points_are_recorded():
    sim = simulate(member_inputs(retirement_age=67)).as_dict()
    car = sim["schemes"]["CAR"]
    assert car["recorded_points"] == "30.00" and car["assimilated_points"] == "5.50"
    assert {y["year"]: y["origin"] for y in car["years"]}["2016/2017"] == "projected"
    assert any("recorded figures" in line and "2017/2018" in line
               for line in car["explanations"])


def test_unsourced_rules_are_listed_and_said():
    sim = simulate(member_inputs(retirement_age=67)).as_dict()
    assert [r["rule"] for r in sim["rule_assumptions"]] == [r["rule"] for r in RULE_ASSUMPTIONS]
    said = [line for line in sim["explanations"] if line.startswith("Assumed rule:")]
    assert len(said) == len(RULE_ASSUMPTIONS)
    car = sim["schemes"]["CAR"]
    assert any("no cap is applied" in line for line in car["explanations"])
    assert any("also from 65" in line for line in car["explanations"])


def test_no_unverified_figure_is_quoted_bare():
    sim = simulate(member_inputs(retirement_age=67))
    cmrc = sim.schemes[CMRC]
    # the CMRC service value is a derivation, unverified, and says so where it is used
    assert cmrc.point_value_status == "assumption"  # projected from the 2024 entry
    assert any("CMRC service value" in line and "projected from an unverified figure" in line
               for line in cmrc.explanations)
    params = simulator.Parameters.load()
    entry = params.series("cmrc_service_value").entries[0]
    assert entry.status == "unverified" and "24.9328" in entry.note
    # every sentence quoting the (unverified) CAR point value qualifies it
    car = sim.schemes[CAR]
    value_lines = [line for line in car.explanations if line.startswith("CAR value")]
    assert value_lines and all("unverified" in line for line in value_lines)


def test_the_qualifier_says_what_a_figure_rests_on():
    params = simulator.Parameters.load()
    assert qualifier(params.value_on("car_base_salary", date(2023, 11, 1))) == ""
    assert qualifier(params.value_on("car_base_salary", date(2025, 1, 1))) == "unverified"
    assert qualifier(params.value_on("car_base_salary", date(2027, 1, 1))) == \
        "projected from an unverified figure"
    assert qualifier(params.value_on("car_base_salary", date(2020, 1, 1))) == "back-projected"


def test_a_survivor_receives_the_shares_of_the_parameter_file():
    sim = simulate(member_inputs(retirement_age=67))
    info = sim.survivor
    car, cmrc = sim.schemes[CAR], sim.schemes[CMRC]
    # 60 % of the points at the member's value of a point and increase, to the cent
    expected, _ = simulator.pension_amounts(car.points * D("0.60"), car.point_value,
                                            car.increase_rate)
    assert info["schemes"][CAR]["annual_gross"] == str(expected)
    assert info["schemes"][CAR]["share_status"] == "unverified"
    assert info["schemes"][CMRC]["share_status"] == "official"
    assert D(info["schemes"][CMRC]["annual_gross"]) == pytest.approx(
        cmrc.annual_gross * D("0.6"), abs=D("0.02"))
    assert any(a.parameter == "car_survivor_share" for a in sim.assumptions)
    assert any(s["parameter"] == "cmrc_survivor_share" for s in sim.sources)


def test_the_survivor_application_refuses_an_orphan_and_says_paper():
    errors = applications.validate_params("survivor_pension", {"relationship": "orphan"})
    assert [(e["field"], e["code"]) for e in errors] == [("params.relationship",
                                                          "on_paper_only")]
    assert "on paper" in errors[0]["detail"]
    assert applications.validate_params("survivor_pension", {
        "deceased_registration_number": "12345", "date_of_death": "2026-01-02"}) == []
    future = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    assert [e["code"] for e in applications.validate_params(
        "survivor_pension", {"date_of_death": future})] == ["in_future"]


@pytest.mark.parametrize("kind", applications.REQUEST_TYPES)
def test_each_type_publishes_the_json_schema_of_its_params(kind):
    schema = applications.params_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert not Draft202012Validator(schema).is_valid({"surely_unknown": 1})


def test_the_schema_follows_the_marshmallow_one():
    schema = applications.params_schema("retirement_pension")
    assert set(schema["properties"]) == {"retirement_date", "stopped_all_activity",
                                         "children", "incapacity"}
    child = {"birth_date": "1990-01-01", "years_raised_before_16": 8}
    assert Draft202012Validator(schema).is_valid({"children": [child]})
    assert not Draft202012Validator(schema).is_valid({"children": [{"birth_date": 3}]})
    assert applications.params_schema("nobody_s_type") == {"type": "object"}


def row(**kw):
    return SimpleNamespace(recorded_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC), **kw)


def test_the_statement_holds_only_recorded_figures():
    member = SimpleNamespace(member_id="m", first_name="Ada", last_name="Test",
                             birth_date=date(1966, 5, 20), language="en",
                             subscriptions=[{"fund": "CCSS", "registration_number": "246810"}])
    periods = [row(id="p", kind="employee", employer=None, start=date(2015, 10, 1),
                   end=date(2026, 11, 30), monthly_gross_salary=D(3000),
                   contribution_class=None)]
    years = [row(scheme=y.scheme, year=y.year, points=y.points) for y in RECORDED.years]
    assimilated = [row(id="a", scheme=a.scheme, reason=a.reason, start=a.start, end=a.end,
                       points=a.points) for a in RECORDED.assimilated]
    content = statement.content(Record(member, periods, years, assimilated))
    text = repr(content)
    assert [r[1] for r in content.table[1:]] == ["2015/2016", "2017/2018", "2024"]
    for projected in ("2016/2017", "2018/2019", "2025"):
        assert projected not in text
    identity = dict(content.sections[0][1])
    assert identity == {"Date of birth": "20/05/1966", "Registration number": "246810 (CCSS)",
                        "Data recorded as of": "02/03/2026"}  # 23:30 UTC is the 2nd in Monaco
    totals = dict(content.sections[3][1])
    assert totals["CAR"].startswith("30.00 + 5.50")
    assert "months since 01/01/2024" in totals["CMRC"]
    assert totals["CMRC"].startswith("50.00 points, 35 months")
    assert dict(content.sections[1][1]) == {"01/10/2015 - 30/11/2026": "employee"}
