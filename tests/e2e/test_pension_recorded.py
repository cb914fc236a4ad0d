"""What the fund recorded (issue 21), end to end on the running suite: recorded points per
year and assimilated periods fed over RPC, the career view and the simulation using them
and marking the rest projected, the certified statement printing only them, assumptions
said out loud, survivors, and the JSON Schema of pension's request types."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest

from services.kit.errors import NotFound, ValidationFailed
from tests.e2e.test_pension import MARIE, login, pdf_upload, request
from tests.support import assert_problem, new_member


def when_known(call, *args, **kwargs):
    """pension hears of a new member through auth's events, within a second or so."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return call(*args, **kwargs)
        except NotFound:
            assert time.monotonic() < deadline, "pension never heard of the member"
            time.sleep(0.2)


@pytest.fixture
def fed(rpc, unique):
    """A member born in 1970, salaried since 2015, with what the fund recorded: CAR points
    for 2015/2016 and 2017/2018 (not 2016/2017), CMRC 2024, and a sickness period."""
    member = new_member(rpc, fund="CCSS", birth_date=dt.date(1970, 4, 10), language="en",
                        first_name="Rita", last_name="Recorded", email_validated=True,
                        email=f"rita{unique}@example.mc")
    mid = member["member_id"]
    when_known(rpc.pension.upsert_career_periods, [
        {"id": f"P-{unique}", "member_id": mid, "kind": "employee", "employer": "SBM",
         "start": "2015-10-01", "end": dt.date.today().isoformat(),
         "monthly_gross_salary": "3000.00"}])
    years = [
        {"member_id": mid, "scheme": "CAR", "year": "2015/2016", "points": "10.00",
         "salaries": "36000.00"},
        {"member_id": mid, "scheme": "CAR", "year": "2017/2018", "points": "20.00",
         "salaries": "36000.00"},
        {"member_id": mid, "scheme": "CMRC", "year": "2024", "points": "50.00",
         "salaries": "36000.00"}]
    sick = {"id": f"A-{unique}", "member_id": mid, "scheme": "CAR", "reason": "sickness",
            "start": "2016-02-01", "end": "2016-03-31", "points": "5.50"}
    answer = rpc.pension.upsert_career_years(years, [sick])
    assert answer == {"years": 3, "assimilated_periods": 1}
    return member, years, sick


def scheme_years(scheme):
    return {y["year"]: (y["points"], y["origin"]) for y in scheme["years"]}


def test_recorded_points_prevail_and_the_rest_is_marked_projected(api, rpc, fed):
    member, years, _ = fed
    token = login(api, (member["identifier"], member["password"]))
    career = api.get("/api/v1/me/career", token).json()
    car = career["schemes"]["CAR"]
    got = scheme_years(car)
    assert got["2015/2016"] == ("10.00", "recorded")
    assert got["2016/2017"][1] == "projected"  # periods, but nothing recorded
    assert got["2017/2018"] == ("20.00", "recorded")
    assert got["2018/2019"][1] == "projected"  # after the last recorded year
    assert car["last_recorded_year"] == "2017/2018"
    assert car["recorded_points"] == "30.00" and car["assimilated_points"] == "5.50"
    assert float(car["total_points"]) == pytest.approx(
        sum(float(v) for v in car["points_by_year"].values()) + 5.5)
    assert "assimilated periods the fund recorded" in car["minimum_condition"]["reason"]
    assert career["assimilated_periods"][0]["reason"] == "sickness"
    assert scheme_years(career["schemes"]["CMRC"])["2024"] == ("50.00", "recorded")

    # idempotent: the same year sent again replaces it; nothing else changes
    assert rpc.pension.upsert_career_years([{**years[0], "points": "12.00"}]) == {
        "years": 1, "assimilated_periods": 0}
    car = api.get("/api/v1/me/career", token).json()["schemes"]["CAR"]
    assert scheme_years(car)["2015/2016"] == ("12.00", "recorded")
    assert car["recorded_points"] == "32.00"

    # one bad year refuses the batch, nothing of it is kept
    with pytest.raises(ValidationFailed) as caught:
        rpc.pension.upsert_career_years([{**years[0], "points": "99.00"},
                                         {**years[1], "year": "2018"}])
    assert [e["field"] for e in caught.value.errors] == ["years.1.year"]
    with pytest.raises(ValidationFailed) as caught:
        rpc.pension.upsert_career_years([{**years[2], "scheme": "CARTI"}])
    assert {e["field"] for e in caught.value.errors} == {
        "years.0.salaries", "years.0.contribution_class", "years.0.contributions_paid"}
    with pytest.raises(ValidationFailed):
        rpc.pension.upsert_career_years([], [])
    with pytest.raises(NotFound):
        rpc.pension.upsert_career_years(
            [{**years[0], "member_id": "00000000-0000-4000-8000-000000000000"}])
    car = api.get("/api/v1/me/career", token).json()["schemes"]["CAR"]
    assert scheme_years(car)["2015/2016"] == ("12.00", "recorded")


def test_the_simulation_counts_recorded_points_and_says_what_it_assumes(api, fed):
    member, _, _ = fed
    token = login(api, (member["identifier"], member["password"]))
    r = api.post("/api/v1/pension/simulations", token, json={"retirement_age": 67})
    assert r.status_code == 200, r.text
    body = r.json()
    car = body["schemes"]["CAR"]
    assert scheme_years(car)["2017/2018"] == ("20.00", "recorded")
    assert scheme_years(car)["2016/2017"][1] == "projected"
    assert car["recorded_points"] == "30.00" and car["assimilated_points"] == "5.50"
    assert car["last_recorded_year"] == "2017/2018"
    assert any("recorded figures" in line and "projected" in line
               for line in car["explanations"])
    # the rules no source backs, listed and said
    rules = {r["rule"] for r in body["rule_assumptions"]}
    assert rules == {"stop_all_activity_after_65", "deferral_increase_without_cap",
                     "one_date_for_every_scheme", "one_day_counts_as_a_month"}
    assert sum(line.startswith("Assumed rule:") for line in body["explanations"]) == 4
    # an unverified figure is never quoted bare: the CAR point value (projected from the
    # unverified 20.36) and the deferral rate after 65
    assert any("CAR value of the point" in line and "unverified" in line
               for line in car["explanations"])
    assert any("quarter(s) after the normal date" in line and "unverified" in line
               and "no cap" in line for line in car["explanations"])
    # survivors, for information: 60 % of the points, unverified for the CAR
    survivor = body["survivor"]["schemes"]
    assert survivor["CAR"]["share"] == "0.60" and survivor["CAR"]["share_status"] == "unverified"
    assert survivor["CMRC"]["share_status"] == "official"
    assert float(survivor["CAR"]["annual_gross"]) == pytest.approx(
        float(car["annual_gross"]) * 0.6, abs=0.02)
    assert any("on paper" in line for line in body["survivor"]["explanations"])
    assert any(a["parameter"] == "car_survivor_share" for a in body["assumptions"])


def pdf_text(api, token, request_id):
    from pypdf import PdfReader

    deadline = time.monotonic() + 30
    while (body := api.get(f"/api/v1/requests/{request_id}", token).json()
           )["status"] != "completed":
        assert time.monotonic() < deadline and body["status"] != "needs_information", body
        time.sleep(0.2)
    pdf = api.get(f"/api/v1/requests/{request_id}/document", token).content
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages), body


def test_the_certified_statement_prints_only_recorded_figures(api, fed):
    member, _, _ = fed
    token = login(api, (member["identifier"], member["password"]))
    created = request(api, token, "career_statement")
    assert created.status_code == 201, created.text
    text, body = pdf_text(api, token, created.json()["id"])
    assert "Career statement" in text and "Rita RECORDED" in text
    assert "10/04/1970" in text  # date of birth
    assert member["identifier"].split("-")[0] in text  # registration number
    assert "Data recorded as of" in text
    assert "2015/2016" in text and "2017/2018" in text
    assert "2016/2017" not in text and "2018/2019" not in text  # projected: absent
    assert "sickness" in text and "5.50" in text
    assert "months since 01/01/2024" in text  # the CMRC's own count
    assert "SBM" in text
    assert body["verification_code"]


def test_the_demo_members_have_recorded_years(api):
    career = api.get("/api/v1/me/career", login(api, MARIE)).json()
    car = scheme_years(career["schemes"]["CAR"])
    assert car["2024/2025"][1] == "recorded"
    assert car["2019/2020"][1] == "projected"  # the demo fund has not recorded it
    assert [a["reason"] for a in career["assimilated_periods"]] == ["maternity"]


def test_a_survivor_applies_with_the_documents_it_needs(api, rpc, unique):
    deceased = new_member(rpc, fund="CCSS", birth_date=dt.date(1950, 1, 1))
    survivor = new_member(rpc, fund="CCSS", birth_date=dt.date(1955, 6, 1),
                          email_validated=True, email=f"widow{unique}@example.mc")
    token = login(api, (survivor["identifier"], survivor["password"]))
    number = deceased["identifier"].split("-")[0]
    # an orphan's application stays on paper, and the answer says so
    refused = assert_problem(request(api, token, "survivor_pension", {
        "deceased_registration_number": number, "relationship": "orphan"}),
        422, "validation_failed")
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("params.relationship", "on_paper_only")]
    assert "on paper" in refused["errors"][0]["detail"]
    bad = assert_problem(request(api, token, "survivor_pension", {
        "deceased_registration_number": "12ab"}), 422, "validation_failed")
    assert [e["field"] for e in bad["errors"]] == ["params.deceased_registration_number"]

    draft = request(api, token, "survivor_pension", {
        "deceased_registration_number": survivor["identifier"].split("-")[0]})
    assert draft.status_code == 201 and draft.json()["status"] == "draft", draft.text
    request_id = draft.json()["id"]
    missing = assert_problem(api.post(f"/api/v1/requests/{request_id}/submit", token),
                             422, "validation_failed")
    details = " ".join(e["detail"] for e in missing["errors"])
    assert "not yours" in details and "params.date_of_death" in details
    assert "death_certificate" in details and "marriage_certificate" in details
    api.request("PATCH", f"/api/v1/requests/{request_id}", token, json={"params": {
        "deceased_registration_number": number, "date_of_death": "2026-01-15"}})
    for category in ("death_certificate", "marriage_certificate"):
        pdf_upload(api, token, request_id, category)
    submitted = api.post(f"/api/v1/requests/{request_id}/submit", token)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"


def test_pension_answers_the_json_schema_of_its_request_types(rpc):
    from jsonschema import Draft202012Validator

    for kind, good, bad in (
            ("career_statement", {}, {"x": 1}),
            ("retirement_pension",
             {"retirement_date": "2031-07-01", "stopped_all_activity": True,
              "children": [{"birth_date": "1990-01-01", "years_raised_before_16": 8}]},
             {"children": [{"birth_date": "1990-01-01"}]}),
            ("survivor_pension",
             {"deceased_registration_number": "123456", "date_of_death": "2026-01-15"},
             {"deceased_registration_number": 123456})):
        schema = rpc.pension.params_schema(kind)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        assert validator.is_valid(good), (kind, list(validator.iter_errors(good)))
        assert not validator.is_valid(bad), kind
    assert rpc.pension.params_schema("no_such_type") == {"type": "object"}
