"""The request registry: lifecycle, events turned into alerts, automatic certificates,
verification, agents, and the right of access."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from pypdf import PdfReader

from tests.support import assert_problem, new_member, wait_for_alert, wait_for_mail

BASE_URL = "https://app.example.mc"  # NOTIFICATIONS_PUBLIC_BASE_URL in tests.support


@pytest.fixture
def member(api, suite, rpc):
    created = new_member(rpc, email=f"q{uuid.uuid4().hex[:8]}@example.mc",
                         email_validated=True)
    created["token"] = api.login(created["identifier"], created["password"])["access_token"]
    return created


@pytest.fixture
def agent(api, suite):
    return api.agent_login()["access_token"]


def wait_status(api, token, request_id, status, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/api/v1/requests/{request_id}", token).json()
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def wait_for_request_alert(api, token, request_id, text, timeout=10.0):
    """The member's alert about this request whose body carries `text`."""
    deadline = time.monotonic() + timeout
    while True:
        for item in api.get("/api/v1/me/notifications?limit=100", token).json()["items"]:
            if item["resource"] == {"type": "request", "id": request_id} and \
                    text in item["body"]:
                return item
        assert time.monotonic() < deadline, f"no alert about {request_id} saying {text!r}"
        time.sleep(0.1)


def request_alerts(api, token, request_id):
    items = api.get("/api/v1/me/notifications?limit=100", token).json()["items"]
    return [i for i in items if i["resource"] == {"type": "request", "id": request_id}]


def create(api, token, kind, params=None, key=None):
    """(documents hears of a new member through events: retry while it has not yet)"""
    headers = {"Idempotency-Key": key} if key else {}
    deadline = time.monotonic() + 10
    while True:
        r = api.post("/api/v1/requests", token, json={"type": kind, "params": params or {}},
                     headers=headers)
        if r.status_code != 404 or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def test_unknown_types_and_bad_params_are_422(api, member):
    assert_problem(create(api, member["token"], "moon_landing"), 422, "validation_failed")
    bad = create(api, member["token"], "payment_certificate", {"from": "2026-13-01"})
    body = assert_problem(bad, 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} >= {"params.from", "params.to"}
    assert_problem(create(api, member["token"], "annual_tax_statement", {"year": 1800}),
                   422, "validation_failed")


def test_a_certificate_completes_on_its_own_and_verifies(api, rpc, member):
    # a card to certify
    number = member["subscriptions"][0]["registration_number"]
    deadline = time.monotonic() + 10
    while True:
        try:
            rpc.benefits.issue_card(member["member_id"], {
                "registration_number": number, "rights_status": "open",
                "valid_from": "2026-01-01", "valid_until": "2027-12-31"})
            break
        except Exception as exc:
            assert "member_not_found" in str(exc) and time.monotonic() < deadline
            time.sleep(0.1)
    r = create(api, member["token"], "certificate_of_rights")
    assert r.status_code == 201 and r.json()["status"] == "submitted"
    done = wait_status(api, member["token"], r.json()["id"], "completed")
    assert [h["to"] for h in done["history"]] == ["submitted", "in_progress", "completed"]
    pdf = api.get(f"/api/v1/requests/{done['id']}/document", member["token"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(
        __import__("io").BytesIO(pdf.content)).pages)
    code = done["verification_code"]
    assert code and code in text and number in text
    check = api.get(f"/api/v1/certificates/verify/{code.lower().replace('-', '')}")
    assert check.status_code == 200
    assert check.json() == {"genuine": True, "type": "certificate_of_rights",
                            "issued_on": check.json()["issued_on"], "holder_initials": "T. M."}
    assert_problem(api.get("/api/v1/certificates/verify/ZZZZ-ZZZZ-ZZZZ"), 404,
                   "certificate_not_found")
    wait_for_alert(api, member["token"], "request_status")


def test_idempotency_key_makes_one_request(api, member):
    key = uuid.uuid4().hex
    first = create(api, member["token"], "affiliation_certificate", key=key)
    again = create(api, member["token"], "affiliation_certificate", key=key)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    listed = api.get("/api/v1/requests", member["token"]).json()["items"]
    assert sum(i["type"] == "affiliation_certificate" for i in listed) == 1


def test_agent_lifecycle_with_alerts_and_a_reply(api, suite, member, agent):
    r = create(api, member["token"], "data_correction",
               {"field": "last_name", "new_value": "Martin", "reason": "Marriage"})
    request_id = r.json()["id"]
    queue = api.get("/api/v1/agent/requests?status=submitted&limit=100", agent).json()
    assert request_id in [i["id"] for i in queue["items"]]
    moved = api.post(f"/api/v1/agent/requests/{request_id}/transition", agent,
                     json={"to": "in_progress"})
    assert moved.status_code == 200, moved.text
    assert_problem(api.post(f"/api/v1/agent/requests/{request_id}/transition", agent,
                            json={"to": "needs_information"}), 422, "validation_failed")
    api.post(f"/api/v1/agent/requests/{request_id}/transition", agent,
             json={"to": "needs_information", "note": "Send the marriage certificate."})
    # the agent's move reaches the member as an alert of its own, with the agent's note
    alert = wait_for_request_alert(api, member["token"], request_id,
                                   "Send the marriage certificate.")
    assert alert["resource"] == {"type": "request", "id": request_id}
    assert alert["kind"] == "request_status" and alert["category"] == "requests"
    assert alert["link"] == f"/requests/{request_id}"
    # it is e-mailed too (on by default), with the note and a link to the request
    mail = wait_for_mail(suite.mail_dir, member["email"], f"{BASE_URL}/requests/{request_id}")
    assert "Send the marriage certificate." in mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == "Informations demandées"
    # the agent's moves each keep their alert: received, in progress, information needed
    assert [a["title"] for a in request_alerts(api, member["token"], request_id)] == [
        "Informations demandées", "Demande en cours de traitement", "Demande reçue"]
    # the member cannot cancel now, but can reply
    assert_problem(api.post(f"/api/v1/requests/{request_id}/cancel", member["token"]),
                   409, "transition_not_allowed")
    replied = api.post(f"/api/v1/requests/{request_id}/reply", member["token"],
                       json={"message": "Here it is."})
    assert replied.json()["status"] == "in_progress"
    done = api.post(f"/api/v1/agent/requests/{request_id}/transition", agent,
                    json={"to": "rejected", "note": "Wrong document."})
    assert done.json()["status"] == "rejected" and done.json()["reason"] == "Wrong document."
    history = api.get(f"/api/v1/requests/{request_id}", member["token"]).json()["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "submitted"), ("submitted", "in_progress"),
        ("in_progress", "needs_information"), ("needs_information", "in_progress"),
        ("in_progress", "rejected")]
    assert history[2]["by"] == "agent" and history[3]["by"] == "member"
    # members cannot use agent routes, nor move requests themselves
    assert_problem(api.get("/api/v1/agent/requests", member["token"]), 403, "wrong_audience")


def test_cancel_and_others_requests(api, rpc, member):
    r = create(api, member["token"], "data_correction",
               {"field": "other", "new_value": "x", "reason": "y"})
    cancelled = api.post(f"/api/v1/requests/{r.json()['id']}/cancel", member["token"])
    assert cancelled.json()["status"] == "cancelled"
    other = new_member(rpc, email=f"o{uuid.uuid4().hex[:8]}@example.mc",
                       email_validated=True)
    token = api.login(other["identifier"], other["password"])["access_token"]
    assert_problem(api.get(f"/api/v1/requests/{r.json()['id']}", token), 404,
                   "request_not_found")


def test_data_access_gathers_every_service(api, member):
    r = create(api, member["token"], "data_access")
    done = wait_status(api, member["token"], r.json()["id"], "completed")
    data = api.get(f"/api/v1/requests/{done['id']}/document", member["token"])
    assert data.status_code == 200
    document = json.loads(data.content)
    assert set(document["parts"]) == {"auth", "notifications", "benefits", "documents",
                                      "pension"}
    assert document["not_gathered"] == []
    assert document["parts"]["auth"]["identity"]["member_id"] == member["member_id"]


def test_an_automatic_request_is_produced_again_after_the_reply(api, rpc, member):
    r = create(api, member["token"], "certificate_of_rights")  # no card yet: cannot be made
    asked = wait_status(api, member["token"], r.json()["id"], "needs_information")
    assert "agent" in asked["history"][-1]["note"]
    number = member["subscriptions"][0]["registration_number"]
    rpc.benefits.issue_card(member["member_id"], {
        "registration_number": number, "rights_status": "open",
        "valid_from": "2026-01-01", "valid_until": "2027-12-31"})
    replied = api.post(f"/api/v1/requests/{r.json()['id']}/reply", member["token"],
                       json={"message": "My card has been issued now."})
    assert replied.json()["status"] == "in_progress"
    done = wait_status(api, member["token"], r.json()["id"], "completed")
    assert done["has_document"] is True


def test_a_tax_statement_covers_a_year_older_than_the_listing_window(api, rpc, member):
    import datetime as dt

    year = dt.date.today().year - 2  # wholly before the 18-month window of the listing
    number = member["subscriptions"][0]["registration_number"]
    payments = [{"kind": "payment", "record_id": f"P-{uuid.uuid4().hex[:12]}",
                 "registration_number": number, "payment_type": "family_allowance",
                 "label": "Allocations familiales", "period_start": f"{year}-{m:02d}-01",
                 "period_end": f"{year}-{m:02d}-28", "payment_date": f"{year}-{m:02d}-05",
                 "amount": amount}
                for m, amount in ((3, "254.31"), (11, "1000.10"))]
    deadline = time.monotonic() + 10  # benefits hears of new members through events
    while rpc.benefits.ingest_records(payments, False)["unknown_members"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    listed = api.get(f"/api/v1/me/payments?from={year}-01-01", member["token"]).json()
    assert listed["items"] == [] and "clamped_from" in listed  # the listing's window
    r = create(api, member["token"], "annual_tax_statement", {"year": year})
    assert r.status_code == 201, r.text
    done = wait_status(api, member["token"], r.json()["id"], "completed")
    pdf = api.get(f"/api/v1/requests/{done['id']}/document", member["token"])
    text = "".join(page.extract_text() for page in PdfReader(
        __import__("io").BytesIO(pdf.content)).pages)
    assert "254.31" in text and "1000.10" in text and "1254.41" in text
    # the right of access too covers everything held, without the listing's window
    held = {p["id"] for p in rpc.benefits.export_member_data(member["member_id"])["payments"]}
    assert {p["record_id"] for p in payments} <= held
    too_long = create(api, member["token"], "payment_certificate",
                      {"from": "2010-01-01", "to": "2021-01-01"})
    body = assert_problem(too_long, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["params.to"]


def test_an_instant_certificate_leaves_one_alert_and_one_email(api, suite, member):
    """Received, in progress and completed by the system within seconds: one alert,
    the latest move's, and the e-mail of the completion with a link to the request."""
    r = create(api, member["token"], "affiliation_certificate")
    request_id = r.json()["id"]
    wait_status(api, member["token"], request_id, "completed")
    link = f"{BASE_URL}/requests/{request_id}"
    mail = wait_for_mail(suite.mail_dir, member["email"], link)
    assert mail["Subject"] == "Demande traitée"
    text = mail.get_body(("plain",)).get_content()
    assert "Votre attestation d'affiliation : elle est traitée." in text
    wait_for_request_alert(api, member["token"], request_id, "elle est traitée")
    time.sleep(1.0)  # (a late event of the same request would come in this while)
    alerts = request_alerts(api, member["token"], request_id)
    assert len(alerts) == 1, alerts
    assert alerts[0]["title"] == "Demande traitée" and alerts[0]["read"] is False
    assert alerts[0]["link"] == f"/requests/{request_id}"
    # received and in progress were not e-mailed: the one message is the completion's
    import email
    import email.policy
    subjects = [m["Subject"] for m in (
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in suite.mail_dir.glob("*.eml")) if member["email"] in str(m["To"])]
    assert subjects == ["Demande traitée"]
