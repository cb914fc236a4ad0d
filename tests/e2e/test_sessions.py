"""Sessions for both clients, revocation at once, refresh rotation, lockout, CORS."""

from __future__ import annotations

import time

import requests

from tests.support import Api, assert_problem, new_member


def web_login(api: Api, identifier: str, password: str) -> tuple[requests.Session, dict]:
    browser = requests.Session()
    r = browser.post(api.base + "/api/v1/auth/login",
                     json={"identifier": identifier, "password": password, "client": "web"})
    assert r.status_code == 200, r.text
    return browser, r.json()


def test_web_login_sets_cookies_and_no_token_in_the_body(api, suite, rpc):
    member = new_member(rpc)
    browser = requests.Session()
    r = browser.post(api.base + "/api/v1/auth/login",
                     json={"identifier": member["identifier"], "password": member["password"],
                           "client": "web"})
    assert r.status_code == 200
    body = r.json()
    assert "access_token" not in body and "refresh_token" not in body
    assert body["csrf_token"] == browser.cookies["ms_csrf"]
    cookies = {c.name: c for c in browser.cookies}
    assert {"ms_access", "ms_refresh", "ms_csrf"} <= set(cookies)
    headers = r.headers.get_all("Set-Cookie") if hasattr(r.headers, "get_all") else \
        r.raw.headers.getlist("Set-Cookie")
    by_name = {h.split("=", 1)[0]: h for h in headers}
    assert "HttpOnly" in by_name["ms_access"] and "HttpOnly" in by_name["ms_refresh"]
    assert "HttpOnly" not in by_name["ms_csrf"]
    assert "SameSite=Lax" in by_name["ms_access"]
    assert "Path=/api/v1/auth" in by_name["ms_refresh"]
    # the cookie alone authenticates a read
    assert browser.get(api.base + "/api/v1/me").status_code == 200


def test_web_state_changes_need_the_csrf_header(api, suite, rpc):
    member = new_member(rpc)
    browser, body = web_login(api, member["identifier"], member["password"])
    change = {"current_password": member["password"], "new_password": "Lynx#527"}
    missing = browser.post(api.base + "/api/v1/auth/password", json=change)
    assert_problem(missing, 403, "csrf_invalid")
    wrong = browser.post(api.base + "/api/v1/auth/password", json=change,
                         headers={"X-CSRF-Token": "forged"})
    assert_problem(wrong, 403, "csrf_invalid")
    ok = browser.post(api.base + "/api/v1/auth/password", json=change,
                      headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 200, ok.text
    assert "access_token" not in ok.json()
    # new cookies and a new CSRF token came with the answer
    assert ok.json()["csrf_token"] == browser.cookies["ms_csrf"] != body["csrf_token"]
    assert browser.get(api.base + "/api/v1/me").status_code == 200


def wait_refused(api: Api, token: str, limit: float = 5.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        r = api.get("/api/v1/me", token)
        if r.status_code == 401:
            assert_problem(r, 401, "session_ended")
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("the ended session's token was still accepted")


def test_password_change_ends_the_other_sessions_at_once(api, suite, rpc):
    member = new_member(rpc)
    phone = api.login(member["identifier"], member["password"])
    laptop = api.login(member["identifier"], member["password"])
    assert api.get("/api/v1/me", phone["access_token"]).status_code == 200
    changed = api.post("/api/v1/auth/password", laptop["access_token"],
                       json={"current_password": member["password"],
                             "new_password": "Lynx#527"})
    assert changed.status_code == 200
    assert wait_refused(api, phone["access_token"]) < 1.0
    # the changing session goes on with its fresh tokens
    assert api.get("/api/v1/me", changed.json()["access_token"]).status_code == 200
    # and the ended session cannot refresh either
    r = api.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert_problem(r, 401, "session_ended")


def test_logout_ends_the_session(api, suite, rpc):
    member = new_member(rpc)
    tokens = api.login(member["identifier"], member["password"])
    r = api.post("/api/v1/auth/logout", tokens["access_token"])
    assert r.status_code == 204
    wait_refused(api, tokens["access_token"])
    assert_problem(api.post("/api/v1/auth/refresh",
                            json={"refresh_token": tokens["refresh_token"]}),
                   401, "session_ended")


def test_web_logout_clears_cookies(api, suite, rpc):
    member = new_member(rpc)
    browser, body = web_login(api, member["identifier"], member["password"])
    r = browser.post(api.base + "/api/v1/auth/logout",
                     headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 204
    assert "ms_access" not in browser.cookies
    assert_problem(browser.get(api.base + "/api/v1/me"), 401, "authentication_required")


def test_refresh_rotates_and_reuse_ends_the_family(api, suite, rpc):
    member = new_member(rpc)
    first = api.login(member["identifier"], member["password"])
    second = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert api.get("/api/v1/me", second["access_token"]).status_code == 200
    # the spent token comes back: someone copied it; the whole session ends
    reused = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(reused, 401, "refresh_token_reused")
    wait_refused(api, second["access_token"])
    assert_problem(api.post("/api/v1/auth/refresh",
                            json={"refresh_token": second["refresh_token"]}),
                   401, "session_ended")
    assert_problem(api.post("/api/v1/auth/refresh", json={"refresh_token": "nonsense"}),
                   401, "invalid_refresh_token")


def test_web_refresh_uses_the_cookie_and_the_csrf_header(api, suite, rpc):
    member = new_member(rpc)
    browser, body = web_login(api, member["identifier"], member["password"])
    assert_problem(browser.post(api.base + "/api/v1/auth/refresh"), 403, "csrf_invalid")
    r = browser.post(api.base + "/api/v1/auth/refresh",
                     headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 200, r.text
    assert "access_token" not in r.json()
    assert r.json()["csrf_token"] == browser.cookies["ms_csrf"] != body["csrf_token"]
    assert browser.get(api.base + "/api/v1/me").status_code == 200


def test_lockout_answers_alike_for_known_and_unknown_identifiers(api, suite, rpc):
    member = new_member(rpc)
    unknown = "555555-01021961"
    answers = {}
    for identifier in (member["identifier"], unknown):
        for _ in range(4):
            assert_problem(api.post("/api/v1/auth/login", json={
                "identifier": identifier, "password": "Wrong#111"}), 401,
                "invalid_credentials")
        fifth = api.post("/api/v1/auth/login",
                         json={"identifier": identifier, "password": "Wrong#111"})
        assert_problem(fifth, 429, "login_locked")
        # locked: even the right password is refused, with the same answer
        again = api.post("/api/v1/auth/login",
                         json={"identifier": identifier, "password": member["password"]})
        body = assert_problem(again, 429, "login_locked")
        answers[identifier] = (again.status_code, body["code"], body["detail"],
                               sorted(k for k in body if k not in ("request_id",)))
    assert answers[member["identifier"]] == answers[unknown]


def test_a_success_clears_the_failure_count(api, suite, rpc):
    member = new_member(rpc)
    for _ in range(4):
        api.post("/api/v1/auth/login",
                 json={"identifier": member["identifier"], "password": "Wrong#111"})
    api.login(member["identifier"], member["password"])
    for _ in range(4):
        assert_problem(api.post("/api/v1/auth/login", json={
            "identifier": member["identifier"], "password": "Wrong#111"}), 401,
            "invalid_credentials")


def test_cors_allows_only_the_configured_origins(api, suite):
    preflight = {"Origin": "https://app.example.mc",
                 "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-csrf-token"}
    r = api.request("OPTIONS", "/api/v1/auth/login", headers=preflight)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.mc"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "X-CSRF-Token" in r.headers["Access-Control-Allow-Headers"]
    evil = api.request("OPTIONS", "/api/v1/auth/login",
                       headers={**preflight, "Origin": "https://evil.example"})
    assert_problem(evil, 403, "origin_not_allowed")
    plain = api.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in plain.headers
    ok = api.get("/health/live", headers={"Origin": "https://app.example.mc"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.mc"


def test_lock_answer_says_when_to_retry(api, suite, rpc):
    member = new_member(rpc)
    for _ in range(5):
        r = api.post("/api/v1/auth/login",
                     json={"identifier": member["identifier"], "password": "Wrong#111"})
    assert_problem(r, 429, "login_locked")
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # a password the fund sets (as `make seed` does for the demo people) ends the lock
    rpc.auth.set_credentials(member["member_id"], {"password": "Quai#482",
                                                   "must_change_password": False})
    assert api.login(member["identifier"], "Quai#482")["access_token"]


def test_password_change_retires_the_sessions_old_refresh_token(api, suite, rpc):
    member = new_member(rpc)
    tokens = api.login(member["identifier"], member["password"])
    changed = api.post("/api/v1/auth/password", tokens["access_token"],
                       json={"current_password": member["password"],
                             "new_password": "Lynx#527"}).json()
    old = api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(old, 401, "invalid_refresh_token")
    fresh = api.post("/api/v1/auth/refresh", json={"refresh_token": changed["refresh_token"]})
    assert fresh.status_code == 200
    assert 0 < fresh.json()["refresh_expires_in"] <= tokens["refresh_expires_in"]


def test_erasing_a_member_ends_their_sessions_at_once(api, suite, rpc):
    member = new_member(rpc)
    tokens = api.login(member["identifier"], member["password"])
    rpc.auth.delete_member(member["member_id"])
    wait_refused(api, tokens["access_token"])


def test_agent_logout(api, suite):
    answer = api.agent_login()
    token = answer["access_token"]
    assert "csrf_token" not in answer
    assert api.post("/api/v1/agent/logout", token).status_code == 204
    wait_refused_agent = api.get("/api/v1/agent/members/00000000-0000-0000-0000-000000000000",
                                 token)
    deadline = time.monotonic() + 5
    while wait_refused_agent.status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.05)
        wait_refused_agent = api.get(
            "/api/v1/agent/members/00000000-0000-0000-0000-000000000000", token)
    assert_problem(wait_refused_agent, 401, "session_ended")


def test_a_login_forgets_the_connections_before_the_previous_visit(api, suite, rpc, test_env):
    """The notice: connections are kept "until my next visit, or at most 2 years"; the
    previous visit stays, to be shown."""
    import sqlalchemy as sa

    member = new_member(rpc)
    engine = sa.create_engine(test_env["AUTH_DATABASE_URL"])

    def visit(days_ago: int) -> str:
        """A login, its logout, and both moved `days_ago` into the past."""
        tokens = api.login(member["identifier"], member["password"])
        session_id = newest()
        assert api.post("/api/v1/auth/logout", tokens["access_token"]).status_code == 204
        with engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE sessions SET created_at = now() - make_interval(days => :d), "
                "ended_at = now() - make_interval(days => :d) + interval '1 hour' "
                "WHERE id = :s"), {"d": days_ago, "s": session_id})
            conn.execute(sa.text(
                "UPDATE persons SET last_login_at = now() - make_interval(days => :d) "
                "WHERE id = :m"), {"d": days_ago, "m": member["member_id"]})
        return session_id

    def newest() -> str:
        with engine.connect() as conn:
            return str(conn.execute(sa.text(
                "SELECT id FROM sessions WHERE person_id = :m "
                "ORDER BY created_at DESC LIMIT 1"), {"m": member["member_id"]}).scalar_one())

    def kept() -> set[str]:
        with engine.connect() as conn:
            return {str(i) for i in conn.execute(sa.text(
                "SELECT id FROM sessions WHERE person_id = :m"),
                {"m": member["member_id"]}).scalars()}

    try:
        first = visit(3)
        second = visit(2)  # (its login kept the first: it was the previous visit then)
        assert {first, second} <= kept()
        third = api.login(member["identifier"], member["password"])
        assert first not in kept()  # ended before the previous visit: forgotten
        assert {second, newest()} <= kept()  # the previous visit, and now
        assert third["previous_login_at"] is not None
    finally:
        engine.dispose()
