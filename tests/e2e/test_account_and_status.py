"""The member's sessions, the password check, the status with maintenance, and the web
app served by the gateway (issues 18 §1, 16 §4, 22)."""

from __future__ import annotations

import os
import subprocess
import sys

import jwt
import requests

from tests.e2e.test_sessions import wait_refused, web_login
from tests.support import assert_problem, new_member


def mobile_login(api, member: dict) -> dict:
    tokens = api.login(member["identifier"], member["password"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    return {**tokens, "session_id": claims["sid"]}


def test_the_member_lists_and_ends_their_sessions(api, suite, rpc):
    member = new_member(rpc, email="s@example.mc", email_validated=True)
    phone = mobile_login(api, member)
    laptop = mobile_login(api, member)
    tablet = mobile_login(api, member)
    r = api.get("/api/v1/me/sessions", phone["access_token"])
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {i["session_id"] for i in items} == {phone["session_id"], laptop["session_id"],
                                                  tablet["session_id"]}
    assert items[0]["session_id"] == phone["session_id"] and items[0]["current"]
    assert [i["current"] for i in items[1:]] == [False, False]
    assert {i["client"] for i in items} == {"mobile"} and {i["method"] for i in items} == {
        "password"}
    assert all(i["started_at"] <= i["last_used_at"] for i in items)

    # another member cannot end it, nor can anyone end an unknown one
    other = new_member(rpc, email="o@example.mc", email_validated=True)
    stranger = mobile_login(api, other)
    assert_problem(api.request("DELETE", f"/api/v1/me/sessions/{laptop['session_id']}",
                               stranger["access_token"]), 404, "session_not_found")
    assert api.get("/api/v1/me", laptop["access_token"]).status_code == 200

    r = api.request("DELETE", f"/api/v1/me/sessions/{laptop['session_id']}",
                    phone["access_token"])
    assert r.status_code == 204, r.text
    wait_refused(api, laptop["access_token"])
    assert_problem(api.post("/api/v1/auth/refresh",
                            json={"refresh_token": laptop["refresh_token"]}),
                   401, "session_ended")
    assert_problem(api.request("DELETE", f"/api/v1/me/sessions/{laptop['session_id']}",
                               phone["access_token"]), 404, "session_not_found")

    r = api.post("/api/v1/me/sessions/end-others", phone["access_token"])
    assert r.status_code == 200 and r.json() == {"ended": 1}
    wait_refused(api, tablet["access_token"])
    listed = api.get("/api/v1/me/sessions", phone["access_token"]).json()["items"]
    assert [i["session_id"] for i in listed] == [phone["session_id"]]


def test_ending_the_web_session_itself_clears_its_cookies(api, suite, rpc):
    member = new_member(rpc, email="w@example.mc", email_validated=True)
    browser, body = web_login(api, member["identifier"], member["password"])
    items = browser.get(api.base + "/api/v1/me/sessions").json()["items"]
    assert items[0]["client"] == "web" and items[0]["current"]
    sid = items[0]["session_id"]
    assert_problem(browser.delete(api.base + f"/api/v1/me/sessions/{sid}"), 403, "csrf_invalid")
    r = browser.delete(api.base + f"/api/v1/me/sessions/{sid}",
                       headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 204
    assert "ms_access" not in browser.cookies


def test_password_check_names_the_broken_rules(api, suite, rpc):
    r = api.post("/api/v1/auth/password/check", json={"password": "aaab"})
    assert r.status_code == 200, r.text
    codes = {e["code"] for e in r.json()["errors"]}
    assert {"password_length", "password_repeated_characters"} <= codes
    assert all(e["field"] == "password" for e in r.json()["errors"])
    assert not r.json()["acceptable"]
    assert api.post("/api/v1/auth/password/check", json={"password": "Lynx#527"}).json() == {
        "acceptable": True, "errors": []}
    # with a session, the member's own facts count: a first-connection member may ask
    member = new_member(rpc, last_name="Bellando", must_change=True)
    tokens = api.login(member["identifier"], member["password"])
    mine = api.post("/api/v1/auth/password/check", tokens["access_token"],
                    json={"password": "Bellando"}).json()
    assert "password_obvious" in {e["code"] for e in mine["errors"]}
    anonymous = api.post("/api/v1/auth/password/check", json={"password": "Bellando"}).json()
    assert "password_obvious" not in {e["code"] for e in anonymous["errors"]}
    assert_problem(api.post("/api/v1/auth/password/check", json={}), 422, "validation_failed")


def test_password_check_is_limited_per_address(api, suite):
    limit = int(os.environ["GATEWAY_PASSWORD_CHECK_LIMIT_PER_IP"])
    answers = [api.post("/api/v1/auth/password/check", json={"password": "Lynx#527"})
               for _ in range(limit + 1)]
    refused = [r for r in answers if r.status_code == 429]
    assert refused and "Retry-After" in refused[0].headers
    assert_problem(refused[0], 429, "too_many_requests")


def maintenance(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "gateway.maintenance", *args],
                          env=os.environ.copy(), capture_output=True, text=True, timeout=30,
                          check=True)
    return done.stdout


def test_status_tells_the_window_and_maintenance_stops_changes_only(api, suite, rpc):
    r = api.get("/api/v1/status")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["window"] == {"start": "01:00", "end": "07:00", "timezone": "Europe/Monaco"}
    assert isinstance(body["in_update_window"], bool)
    assert body["maintenance"]["active"] is False
    member = new_member(rpc, email="m@example.mc", email_validated=True)
    tokens = mobile_login(api, member)
    try:
        maintenance("on", "--fr", "Maintenance jusqu'à 14 h", "--en", "Maintenance until 2 pm")
        status = api.get("/api/v1/status").json()["maintenance"]
        assert status == {"active": True, "message_fr": "Maintenance jusqu'à 14 h",
                          "message_en": "Maintenance until 2 pm",
                          "message": "Maintenance jusqu'à 14 h"}
        english = requests.get(api.base + "/api/v1/status", cookies={"lang": "en"}, timeout=10)
        assert english.json()["maintenance"]["message"] == "Maintenance until 2 pm"
        refused = api.post("/api/v1/me/notifications/read-all", tokens["access_token"])
        body = assert_problem(refused, 503, "maintenance")
        assert refused.headers["Retry-After"] and body["message_en"] == "Maintenance until 2 pm"
        assert_problem(api.request("DELETE", f"/api/v1/me/sessions/{tokens['session_id']}",
                                   tokens["access_token"]), 503, "maintenance")
        # reads, login, refresh and logout keep working
        assert api.get("/api/v1/me", tokens["access_token"]).status_code == 200
        again = api.login(member["identifier"], member["password"])
        assert api.post("/api/v1/auth/refresh",
                        json={"refresh_token": again["refresh_token"]}).status_code == 200
        assert api.post("/api/v1/auth/logout", again["access_token"]).status_code == 204
    finally:
        maintenance("off")
    assert api.get("/api/v1/status").json()["maintenance"]["active"] is False
    assert api.post("/api/v1/me/notifications/read-all",
                    tokens["access_token"]).status_code == 200


def test_the_gateway_serves_the_web_app_outside_the_api(api, suite):
    for path in ("/", "/email/verify?token=abc", "/password/reset?token=abc", "/sessions"):
        r = api.get(path)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"].startswith("text/html")
        assert '<html lang="fr"' in r.text and "web-app-test-page" in r.text
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
    english = requests.get(api.base + "/email/verify", cookies={"lang": "en"}, timeout=10)
    assert '<html lang="en"' in english.text
    asset = api.get("/assets/app-test.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
    assert "javascript" in asset.headers["Content-Type"]
    assert_problem(api.get("/assets/missing-1234.js"), 404, "not_found")
    assert_problem(api.get("/../../etc/passwd.txt"), 404, "not_found")
    assert_problem(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert api.get("/health/live").json() == {"status": "ok"}
    assert_problem(api.post("/", json={}), 404, "not_found")
