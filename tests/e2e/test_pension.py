"""Career, simulations and the online pension application, end to end."""

from __future__ import annotations

import datetime as dt
import time

from tests.support import assert_problem

MARIE = ("123456-03091985", "Azur#718")
PAUL = ("12345-15061970", "Port!962")
SOPHIE = ("246810-20051966", "Lune#305")


def monaco_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Monaco")).date()


def date_months_before(day: dt.date, months: int) -> str:
    from dateutil.relativedelta import relativedelta

    return (day.replace(day=1) - relativedelta(months=months)).isoformat()


def login(api, who):
    return api.login(*who)["access_token"]


def test_career_per_scheme(api, suite):
    career = api.get("/api/v1/me/career", login(api, MARIE)).json()
    assert set(career["schemes"]) == {"CAR", "CMRC", "CARTI"}
    car = career["schemes"]["CAR"]
    assert car["months_with_activity"] > 200 and float(car["total_points"]) > 0
    assert "2024/2025" in car["points_by_year"]
    assert float(career["schemes"]["CMRC"]["total_points"]) > 0
    assert career["schemes"]["CARTI"]["months_with_activity"] == 0


def test_member_simulation_shows_two_schemes_for_paul(api, suite):
    r = api.post("/api/v1/pension/simulations", login(api, PAUL),
                 json={"retirement_age": 65})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schemes"]["CAR"]["points"] != "0.00"
    assert body["schemes"]["CARTI"]["outcome"] in ("pension", "not_yet_available")
    assert body["comparison"] and body["explanations"] and body["assumptions"]


ANON = {"date_of_birth": "1975-04-10", "sex": "F", "retirement_age": 64,
        "career": [{"kind": "employee", "monthly_gross_salary": "3000.00",
                    "start": "2000-01-01", "end": "2024-12-31"}]}


def test_anonymous_simulation_and_its_errors(api, suite):
    r = api.post("/api/v1/pension/simulations/anonymous", json=ANON)
    assert r.status_code == 200, r.text
    assert r.json()["schemes"]["CAR"]["eligible"] in (True, False)
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    cases = [({"date_of_birth": future}, "date_of_birth"),
             ({"retirement_age": 40}, "retirement_age"),
             ({"career": [{**ANON["career"][0], "monthly_gross_salary": "-1"}]},
              "career.0.monthly_gross_salary"),
             ({"career": [{**ANON["career"][0], "end": "1999-01-01"}]}, "career.0.end"),
             ({"career": [ANON["career"][0], {**ANON["career"][0], "start": "2010-01-01"}]},
              "career.1")]
    for change, field in cases:
        body = assert_problem(api.post("/api/v1/pension/simulations/anonymous",
                                       json={**ANON, **change}), 422, "validation_failed")
        assert any(e["field"].startswith(field) for e in body["errors"]), (field, body)


def request(api, token, kind, params=None):
    return api.post("/api/v1/requests", token, json={"type": kind, "params": params or {}})


def test_career_statement_is_a_certified_pdf(api, suite):
    token = login(api, MARIE)
    created = request(api, token, "career_statement")
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 30
    while (body := api.get(f"/api/v1/requests/{created.json()['id']}", token).json()
           )["status"] != "completed":
        assert time.monotonic() < deadline and body["status"] != "needs_information", body
        time.sleep(0.2)
    pdf = api.get(f"/api/v1/requests/{body['id']}/document", token)
    assert pdf.content.startswith(b"%PDF-")
    assert api.get(f"/api/v1/certificates/verify/{body['verification_code']}").json()[
        "type"] == "career_statement"


def pdf_upload(api, token, request_id, category):
    from services.kit.pdf import DocumentSection, IssuedDocument, render_pdf

    data = render_pdf(IssuedDocument(title="Scan", holder_name="X", sections=[
        DocumentSection("S", rows=[("a", "b")])], verification_code="AAAA-BBBB-CCCC",
        verification_url="http://x", issued_at=dt.datetime.now(dt.UTC)))
    r = api.post("/api/v1/documents", token, files={"file": ("scan.pdf", data,
                                                             "application/pdf")},
                 data={"category": category, "request_id": request_id})
    assert r.status_code in (200, 201), r.text


def test_paul_can_draft_but_not_submit_yet(api, suite):
    token = login(api, PAUL)
    draft = request(api, token, "retirement_pension",
                    {"retirement_date": "2035-07-01", "stopped_all_activity": True})
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
    refused = api.post(f"/api/v1/requests/{draft.json()['id']}/submit", token)
    body = assert_problem(refused, 422, "validation_failed")
    assert any("opens on" in e["detail"] for e in body["errors"])


def test_sophie_submits_her_application_once_complete(api, suite):
    token = login(api, SOPHIE)
    draft = request(api, token, "retirement_pension", {"stopped_all_activity": True})
    request_id = draft.json()["id"]
    missing = assert_problem(api.post(f"/api/v1/requests/{request_id}/submit", token),
                             422, "validation_failed")
    details = " ".join(e["detail"] for e in missing["errors"])
    assert "retirement_date" in details and "identity_document" in details
    for category in ("identity_document", "bank_details"):
        pdf_upload(api, token, request_id, category)
    # born 20/05/1966: the CAR pension can start on 01/06/2026 at the earliest, and a
    # pension cannot start in the past
    today = monaco_today()
    for too_early, why in (("2026-05-01", "on or after 01/06/2026"),
                           (date_months_before(today, 1), "not in the past")):
        api.request("PATCH", f"/api/v1/requests/{request_id}", token, json={"params": {
            "stopped_all_activity": True, "retirement_date": too_early}})
        refused = assert_problem(api.post(f"/api/v1/requests/{request_id}/submit", token),
                                 422, "validation_failed")
        assert [e["detail"] for e in refused["errors"] if why in e["detail"]], refused
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    api.request("PATCH", f"/api/v1/requests/{request_id}", token, json={"params": {
        "stopped_all_activity": True, "retirement_date": next_month.isoformat()}})
    # a draft is the member's own: no event, so no alert, until it is submitted
    time.sleep(0.5)
    assert about_request(api, token, request_id) == []
    submitted = api.post(f"/api/v1/requests/{request_id}/submit", token)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    deadline = time.monotonic() + 10
    while not about_request(api, token, request_id):
        assert time.monotonic() < deadline, "no alert once submitted"
        time.sleep(0.1)


def about_request(api, token, request_id):
    items = api.get("/api/v1/me/notifications?limit=100", token).json()["items"]
    return [i for i in items if i["resource"] == {"type": "request", "id": request_id}]


