"""MConnect against a real local OpenID provider, and the agents' side."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.support import assert_problem, new_member


def start(api, client, browser=None):
    r = (browser or api.http).get(f"{api.base}/api/v1/auth/mconnect/start?client={client}",
                                  allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    return r.headers["Location"]


def finish(api, oidc_provider, authorization_url, subject, claims, browser=None):
    callback = oidc_provider.complete_login(authorization_url, subject, claims)
    path = callback.split(str(api.base), 1)[1]
    client = browser or api.http
    return client.get(api.base + path, allow_redirects=False, timeout=30)


def test_web_login_with_mconnect(api, suite, rpc, oidc_provider):
    # a pending password change does not block MConnect (it gates password sessions)
    member = new_member(rpc, must_change=True, email_validated=True,
                        email=f"mc{uuid.uuid4().hex[:8]}@example.mc")
    number = member["subscriptions"][0]["registration_number"]
    browser = requests.Session()
    url = start(api, "web", browser)
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    r = finish(api, oidc_provider, url, f"mc-{uuid.uuid4().hex}",
               {"registration_number": number}, browser)
    assert r.status_code == 302
    assert r.headers["Location"] == "https://app.example.mc/home"
    assert {"ms_access", "ms_refresh", "ms_csrf"} <= set(browser.cookies.keys())
    me = browser.get(api.base + "/api/v1/me")
    assert me.status_code == 200 and me.json()["member_id"] == member["member_id"]
    assert me.json()["previous_login_at"] is None
    assert browser.get(api.base + "/api/v1/me/notifications").status_code == 200
    # the connection was recorded with its method; a password session is gated
    again = api.login(member["identifier"], member["password"])
    assert again["previous_login_at"] is not None
    assert api.get("/api/v1/me", again["access_token"]).json()[
        "previous_login_method"] == "mconnect"
    assert_problem(api.get("/api/v1/me/notifications", again["access_token"]), 403,
                   "password_change_required")


def test_mobile_login_with_mconnect_and_linking(api, suite, rpc, oidc_provider):
    member = new_member(rpc)
    number = member["subscriptions"][0]["registration_number"]
    subject = f"mc-{uuid.uuid4().hex}"
    r = finish(api, oidc_provider, start(api, "mobile"), subject,
               {"registration_number": number})
    location = r.headers["Location"]
    assert location.startswith("memberspace://mconnect?")
    code = parse_qs(urlparse(location).query)["code"][0]
    tokens = api.post("/api/v1/auth/mconnect/token", json={"code": code})
    assert tokens.status_code == 200, tokens.text
    assert api.get("/api/v1/me", tokens.json()["access_token"]).json()["member_id"] == \
        member["member_id"]
    assert_problem(api.post("/api/v1/auth/mconnect/token", json={"code": code}),
                   401, "invalid_code")
    # linked on first use: the subject alone finds the member next time
    r = finish(api, oidc_provider, start(api, "mobile"), subject, {})
    assert "code=" in r.headers["Location"]


def test_mconnect_unknown_person_and_bad_state(api, suite, oidc_provider):
    r = finish(api, oidc_provider, start(api, "web"), f"mc-{uuid.uuid4().hex}",
               {"registration_number": "999998"})
    assert r.headers["Location"] == "https://app.example.mc/home?mconnect_error=" \
                                    "mconnect_unknown_member"
    bad = api.get("/api/v1/auth/mconnect/callback?state=forged&code=x",
                  allow_redirects=False)
    assert_problem(bad, 401, "mconnect_state_invalid")


def test_mconnect_callback_only_completes_in_the_browser_that_started(api, suite, rpc,
                                                                      oidc_provider):
    member = new_member(rpc)
    number = member["subscriptions"][0]["registration_number"]
    attacker = requests.Session()
    url = start(api, "web", attacker)
    victim = requests.Session()  # lured onto the attacker's callback link
    r = finish(api, oidc_provider, url, f"mc-{uuid.uuid4().hex}",
               {"registration_number": number}, victim)
    assert_problem(r, 401, "mconnect_state_invalid")
    assert "ms_access" not in victim.cookies


def test_mconnect_ignores_a_password_lock(api, suite, rpc, oidc_provider):
    member = new_member(rpc)
    for _ in range(5):
        r = api.post("/api/v1/auth/login",
                     json={"identifier": member["identifier"], "password": "Wrong#111"})
    assert_problem(r, 429, "login_locked")
    number = member["subscriptions"][0]["registration_number"]
    r = finish(api, oidc_provider, start(api, "mobile"), f"mc-{uuid.uuid4().hex}",
               {"registration_number": number})
    assert "code=" in r.headers["Location"]


@pytest.fixture
def agent_token(api, suite):
    return api.agent_login()["access_token"]


def test_agent_reads_a_member_and_it_is_audited(api, suite, rpc, agent_token, test_env):
    import sqlalchemy as sa

    member = new_member(rpc)
    r = api.get(f"/api/v1/agent/members/{member['member_id']}", agent_token)
    assert r.status_code == 200 and r.json()["member_id"] == member["member_id"]
    engine = sa.create_engine(test_env["AUTH_DATABASE_URL"])
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT actor_type, actor_id, session_id FROM audit_log "
            "WHERE member_id = :m AND action = 'member.read'"),
            {"m": member["member_id"]}).one()
    engine.dispose()
    assert row.actor_type == "agent" and row.actor_id and row.session_id
    missing = api.get(f"/api/v1/agent/members/{uuid.uuid4()}", agent_token)
    assert_problem(missing, 404, "member_not_found")


def test_audiences_do_not_mix(api, suite, rpc, agent_token):
    member = new_member(rpc)
    member_token = api.login(member["identifier"], member["password"])["access_token"]
    assert_problem(api.get("/api/v1/me", agent_token), 403, "wrong_audience")
    assert_problem(api.get(f"/api/v1/agent/members/{member['member_id']}", member_token),
                   403, "wrong_audience")
    assert_problem(api.post("/api/v1/agent/login",
                            json={"username": "agent", "password": "Wrong-Password-1"}),
                   401, "invalid_credentials")


def test_agent_password_policy(suite, rpc):
    from services.kit.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        rpc.auth.create_agent("clerk", "Clerk Two", ["agent"], "Short#1")
    assert "password_length" in {e["code"] for e in err.value.errors}
    with pytest.raises(ValidationFailed) as err:
        rpc.auth.create_agent("clerk", "Clerk Two", ["agent"], "clerk-Harbour-99")
    assert "password_obvious" in {e["code"] for e in err.value.errors}
