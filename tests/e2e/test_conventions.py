"""The API conventions every route follows (docs/api-conventions.md)."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.support import assert_problem


def test_unknown_route_and_method_are_problems(api, suite):
    assert_problem(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(api.get("/api/"), 404, "not_found")
    r = api.request("DELETE", "/api/v1/me")
    assert_problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]
    r = api.request("TRACE", "/api/v1/me")
    assert r.status_code in (404, 405)
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_body_errors(api, suite):
    url = "/api/v1/auth/login"
    assert_problem(api.post(url, data="{nope", headers={"Content-Type": "application/json"}),
                   400, "malformed_json")
    assert_problem(api.post(url, data="[1, 2]", headers={"Content-Type": "application/json"}),
                   400, "malformed_json")
    assert_problem(api.post(url, data="identifier=x", headers={
        "Content-Type": "application/x-www-form-urlencoded"}), 415, "unsupported_media_type")
    big = json.dumps({"identifier": "x" * 70000, "password": "y"})
    assert_problem(api.post(url, data=big, headers={"Content-Type": "application/json"}),
                   413, "payload_too_large")
    body = assert_problem(api.post(url, json={"identifier": "123456-03091985", "extra": 1}),
                          422, "validation_failed")
    fields = {e["field"]: e["code"] for e in body["errors"]}
    assert fields == {"password": "required", "extra": "unknown_field"}
    body = assert_problem(api.post(url, json={"identifier": 5, "password": "x",
                                              "client": "tv"}), 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"identifier", "client"}


def test_request_id_is_echoed_and_followed_into_the_services(api, suite):
    r = api.post("/api/v1/auth/login", headers={"X-Request-ID": "trace-me-42"},
                 json={"identifier": "123456-03091985", "password": "Azur#718"})
    assert r.status_code == 200
    assert r.headers["X-Request-ID"] == "trace-me-42"
    # the call's log line is written just after the answer is sent
    deadline = time.monotonic() + 5
    while '"correlation_id": "trace-me-42"' not in (
            suite.log_dir / "auth.log").read_text(errors="replace"):
        assert time.monotonic() < deadline, "auth never logged the request's id"
        time.sleep(0.05)
    generated = api.get("/api/v1/me").headers["X-Request-ID"]
    assert len(generated) >= 16
    bad = api.get("/api/v1/me", headers={"X-Request-ID": "no spaces <allowed>"})
    assert bad.headers["X-Request-ID"] != "no spaces <allowed>"
    too_long = "0" * 128
    assert api.get("/health/live", headers={"X-Request-ID": too_long}
                   ).headers["X-Request-ID"] != too_long


def test_a_long_request_id_never_breaks_an_audited_change(api, suite):
    token = api.login("123456-03091985", "Azur#718")["access_token"]
    r = api.request("PUT", "/api/v1/me/notification-preferences", token,
                    headers={"X-Request-ID": "0" * 100}, json={"email": {}})
    assert r.status_code == 200, r.text


def test_health(api, suite):
    r = api.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["services"]["auth"]["ready"] is True
    assert body["services"]["auth"]["checks"]["database"]["ok"] is True
    assert api.get("/health/live").json() == {"status": "ok"}


def test_answers_carry_the_security_headers(api, suite):
    for r in (api.get("/api/v1/me"), api.get("/health/live"),
              api.post("/api/v1/auth/login", json={"identifier": "x", "password": "y"})):
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in r.headers  # plain http here


def test_openapi_document_describes_every_route(api, suite):
    from openapi_spec_validator import validate

    from gateway.api import ROUTES

    r = api.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    for route in ROUTES:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.path)
        assert route.method.lower() in doc["paths"][path], route.path
    login = doc["paths"]["/api/v1/auth/login"]["post"]
    ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"identifier", "password"} <= set(schema["required"])
    assert "invalid_credentials" in login["responses"]["401"]["description"]
    me = doc["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}, {"cookieAuth": []}]
    assert "bearerAuth" in doc["components"]["securitySchemes"]
    assert "Problem" in doc["components"]["schemas"]


def test_text_with_a_nul_character_is_refused_not_a_server_error(api, suite, rpc):
    from tests.support import new_member

    member = new_member(rpc, email_validated=True, email="nul@example.mc")
    token = api.login(member["identifier"], member["password"])["access_token"]
    body = assert_problem(api.get("/api/v1/me/refunds?beneficiary=a%00b", token),
                          422, "validation_failed")
    assert body["errors"] == [{"field": "beneficiary", "code": "nul_character",
                               "detail": "Text may not contain NUL (U+0000) characters."}]
    body = assert_problem(api.post("/api/v1/requests", token, json={
        "type": "data_correction", "params": {"field": "other", "new_value": "x\x00y",
                                              "reason": "r"}}), 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["params.new_value"]
    # past the gateway (another system calling over RPC), the database refuses it: 422 too
    from services.kit.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        rpc.benefits.list_refunds(member["member_id"], {"beneficiary": "a\x00b"})
    assert [e["code"] for e in caught.value.errors] == ["nul_character"]
    # ... and so is an identifier PostgreSQL cannot read as one
    with pytest.raises(ValidationFailed) as caught:
        rpc.benefits.list_refunds("not-a-member-id", {})
    assert [e["code"] for e in caught.value.errors] == ["invalid"]
