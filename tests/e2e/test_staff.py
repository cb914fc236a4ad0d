"""Staff accounts: the second factor and its enrolment, roles at the gateway and in the
services, short agent sessions, growing delays, the audit, and the internal door."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa

from deploy.suite import ROOT
from gateway.api import AGENT, ROUTES
from tests.support import (
    SUPERVISOR_LOGIN,
    assert_problem,
    new_member,
    totp_code,
)
from tests.support import test_port as slot_port

PASSWORD = "Quayside-Ledger-2026"


@pytest.fixture
def supervisor(api, suite):
    return api.agent_login(**SUPERVISOR_LOGIN)["access_token"]


def audit_rows(url: str, action: str, **where: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT actor_type, actor_id, member_id, details FROM audit_log "
                "WHERE action = :a ORDER BY at"), {"a": action}).all()
    finally:
        engine.dispose()
    return [r for r in rows if all(r.details.get(k) == v for k, v in where.items())]


def auth_db(test_env: dict, sql: str, **params: object) -> list:
    engine = sa.create_engine(test_env["AUTH_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def create_agent(api, supervisor, roles=("agent",)) -> dict:
    username = f"clerk{uuid.uuid4().hex[:8]}"
    r = api.post("/api/v1/agent/agents", supervisor,
                 json={"username": username, "display_name": "Clerk Test",
                       "roles": list(roles), "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["factor_enrolled"] is False and r.json()["roles"] == list(roles)
    return {**r.json(), "password": PASSWORD}


def enrol(api, agent: dict) -> dict:
    """Password login, enrolment, confirmation: the agent with its secret and codes."""
    refused = api.post("/api/v1/agent/login",
                       json={"username": agent["username"], "password": agent["password"]})
    body = assert_problem(refused, 403, "otp_enrolment_required")
    assert body["expires_in"] == "600"  # seconds, a string like retry_after
    token = body["enrolment_token"]
    r = api.post("/api/v1/agent/otp/enrol", json={"enrolment_token": token})
    assert r.status_code == 200, r.text
    setup = r.json()
    secret = pyotp.parse_uri(setup["otpauth_uri"]).secret
    r = api.post("/api/v1/agent/otp/confirm",
                 json={"enrolment_token": token, "otp": totp_code(secret)})
    assert r.status_code == 200, r.text
    return {**agent, **setup, "secret": secret, "enrolment_token": token,
            "session": r.json()}


def login(api, agent: dict, otp: str | None = None):
    return api.post("/api/v1/agent/login",
                    json={"username": agent["username"], "password": agent["password"],
                          "otp": otp or totp_code(agent["secret"])})


def same_problem(a, b) -> None:
    """Two refusals a client cannot tell apart."""
    keep = ("status", "code", "title", "detail", "type")
    assert a.status_code == b.status_code
    assert {k: a.json()[k] for k in keep} == {k: b.json()[k] for k in keep}


def test_enrolment_then_login_with_a_code_each_used_once(api, suite, supervisor, test_env):
    agent = enrol(api, create_agent(api, supervisor))
    assert agent["session"]["agent"]["factor_enrolled"] is True
    assert base64.b64decode(agent["qr_png_base64"]).startswith(b"\x89PNG")
    assert len(set(agent["recovery_codes"])) == 10
    # the enrolment token served once
    assert_problem(api.post("/api/v1/agent/otp/enrol",
                            json={"enrolment_token": agent["enrolment_token"]}),
                   401, "invalid_enrolment_token")
    # the secret is stored sealed, not as itself
    (stored,) = auth_db(test_env, "SELECT otp_secret FROM agents WHERE id = :i",
                        i=agent["agent_id"])
    assert stored.otp_secret and agent["secret"] not in stored.otp_secret
    # wrong password, missing code, wrong code, reused code: one answer
    code = totp_code(agent["secret"])
    wrong_password = api.post("/api/v1/agent/login", json={
        "username": agent["username"], "password": "Not-The-Password-1", "otp": code})
    assert_problem(wrong_password, 401, "invalid_credentials")
    missing = api.post("/api/v1/agent/login", json={
        "username": agent["username"], "password": agent["password"]})
    same_problem(missing, wrong_password)
    ok = login(api, agent, code)
    assert ok.status_code == 200, ok.text
    assert ok.json()["refresh_expires_in"] <= 8 * 3600
    reused = login(api, agent, code)
    same_problem(reused, wrong_password)
    wrong = login(api, agent, "000000" if code != "000000" else "111111")
    same_problem(wrong, wrong_password)
    assert login(api, agent).status_code == 200
    # every login and failure is audited, with why it failed (never the password)
    url = test_env["AUTH_DATABASE_URL"]
    failures = audit_rows(url, "agent.login_failed", agent_id=agent["agent_id"])
    assert [f.details["reason"] for f in failures] == [
        "password", "second_factor", "code_reused", "second_factor"]
    assert all(PASSWORD not in str(f.details) for f in failures)
    assert len(audit_rows(url, "agent.logged_in", agent_id=agent["agent_id"])) == 3
    assert audit_rows(url, "agent.factor_enrolled", agent_id=agent["agent_id"])
    assert audit_rows(url, "agent.enrolment_started", agent_id=agent["agent_id"])


def test_confirm_needs_a_code_of_the_new_secret(api, suite, supervisor):
    agent = create_agent(api, supervisor)
    token = assert_problem(api.post("/api/v1/agent/login", json={
        "username": agent["username"], "password": PASSWORD}),
        403, "otp_enrolment_required")["enrolment_token"]
    assert_problem(api.post("/api/v1/agent/otp/confirm",
                            json={"enrolment_token": token, "otp": "123456"}),
                   409, "enrolment_not_started")
    setup = api.post("/api/v1/agent/otp/enrol", json={"enrolment_token": token}).json()
    other = pyotp.random_base32()
    assert_problem(api.post("/api/v1/agent/otp/confirm",
                            json={"enrolment_token": token, "otp": pyotp.TOTP(other).now()}),
                   401, "invalid_otp")
    assert_problem(api.post("/api/v1/agent/otp/enrol",
                            json={"enrolment_token": "not-a-token"}),
                   401, "invalid_enrolment_token")
    secret = pyotp.parse_uri(setup["otpauth_uri"]).secret
    r = api.post("/api/v1/agent/otp/confirm",
                 json={"enrolment_token": token, "otp": totp_code(secret)})
    assert r.status_code == 200, r.text


def test_a_recovery_code_stands_in_once(api, suite, supervisor, test_env):
    agent = enrol(api, create_agent(api, supervisor))
    code = agent["recovery_codes"][3]
    assert login(api, agent, code).status_code == 200
    assert_problem(login(api, agent, code), 401, "invalid_credentials")
    assert login(api, agent, agent["recovery_codes"][4].upper()).status_code == 200
    used = audit_rows(test_env["AUTH_DATABASE_URL"], "agent.recovery_code_used",
                      agent_id=agent["agent_id"])
    assert [u.details["codes_left"] for u in used] == [9, 8]


def test_a_supervisor_resets_a_factor_and_disables_an_account(api, suite, supervisor,
                                                              test_env):
    agent = enrol(api, create_agent(api, supervisor))
    refresh = agent["session"]["refresh_token"]
    r = api.post(f"/api/v1/agent/agents/{agent['agent_id']}/reset-factor", supervisor)
    assert r.status_code == 200 and r.json()["factor_enrolled"] is False
    # the agent's sessions ended with it; the next login asks for a new enrolment
    assert_problem(api.post("/api/v1/auth/refresh", json={"refresh_token": refresh}),
                   401, "session_ended")
    assert_problem(login(api, agent), 403, "otp_enrolment_required")
    old_code = agent["recovery_codes"][0]
    again = enrol(api, agent)
    assert_problem(login(api, again, old_code), 401, "invalid_credentials")
    assert audit_rows(test_env["AUTH_DATABASE_URL"], "agent.factor_reset",
                      agent_id=agent["agent_id"])
    # disabled: refused like a wrong password, sessions ended; enabled again: back
    r = api.post(f"/api/v1/agent/agents/{agent['agent_id']}/disable", supervisor)
    assert r.status_code == 200 and r.json()["active"] is False
    assert_problem(api.post("/api/v1/auth/refresh",
                            json={"refresh_token": again["session"]["refresh_token"]}),
                   401, "session_ended")
    assert_problem(login(api, again), 401, "invalid_credentials")
    api.post(f"/api/v1/agent/agents/{agent['agent_id']}/enable", supervisor)
    assert login(api, again).status_code == 200
    listed = api.get("/api/v1/agent/agents", supervisor).json()["items"]
    assert agent["username"] in [a["username"] for a in listed]
    # a supervisor does not lock themselves out
    me = api.agent_login(**SUPERVISOR_LOGIN)
    assert_problem(api.post(f"/api/v1/agent/agents/{me['agent']['agent_id']}/disable",
                            me["access_token"]), 409, "own_account")


def test_failed_logins_wait_growing_delays_not_a_lock(api, suite, supervisor):
    agent = enrol(api, create_agent(api, supervisor))
    throttled = None
    for _ in range(10):  # the delays double from the third failure: one is soon seen
        r = api.post("/api/v1/agent/login", json={
            "username": agent["username"], "password": "Not-The-Password-1",
            "otp": "123456"})
        if r.status_code == 429:
            throttled = r
            break
        assert_problem(r, 401, "invalid_credentials")
    assert throttled is not None
    assert_problem(throttled, 429, "login_throttled")
    wait = int(throttled.headers["Retry-After"])
    assert 1 <= wait <= 60
    # the right credentials pass once the delay is over (no lock to keep staff out)
    time.sleep(wait + 0.5)
    r = login(api, agent)
    if r.status_code == 429:  # a slow machine: the previous failure's delay not yet over
        time.sleep(int(r.headers["Retry-After"]) + 0.5)
        r = login(api, agent)
    assert r.status_code == 200, r.text


def test_agent_sessions_end_when_idle_and_refresh_keeps_them_alive(api, suite, supervisor,
                                                                   test_env):
    agent = enrol(api, create_agent(api, supervisor))
    session = agent["session"]
    r = api.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200, r.text
    (row,) = auth_db(test_env, "SELECT created_at, expires_at, last_used_at FROM sessions "
                               "WHERE id = :i", i=session["session_id"])
    assert row.expires_at - row.created_at == dt.timedelta(hours=8)
    assert row.last_used_at > row.created_at  # kept at refresh
    # 31 minutes without a refresh: the session has ended
    auth_db(test_env, "UPDATE sessions SET last_used_at = now() - interval '31 minutes' "
                      "WHERE id = :i", i=session["session_id"])
    assert_problem(api.post("/api/v1/auth/refresh",
                            json={"refresh_token": r.json()["refresh_token"]}),
                   401, "session_ended")
    (ended,) = auth_db(test_env, "SELECT end_reason FROM sessions WHERE id = :i",
                       i=session["session_id"])
    assert ended.end_reason == "idle"
    # logging out is audited
    fresh = login(api, agent).json()
    assert api.post("/api/v1/agent/logout", fresh["access_token"]).status_code == 204
    assert audit_rows(test_env["AUTH_DATABASE_URL"], "agent.logged_out",
                      agent_id=agent["agent_id"], session_id=fresh["session_id"])


def _walk_url(path: str) -> str:
    return (path.replace("<uuid:member_id>", str(uuid.uuid4()))
            .replace("<uuid:agent_id>", str(uuid.uuid4()))
            .replace("<uuid:request_id>", str(uuid.uuid4())))


def test_every_staff_route_with_each_role_and_a_member_token(api, suite, rpc, supervisor):
    member = new_member(rpc)
    member_token = api.login(member["identifier"], member["password"])["access_token"]
    clerk = enrol(api, create_agent(api, supervisor, roles=("agent",)))
    boss = enrol(api, create_agent(api, supervisor, roles=("supervisor",)))
    staff = sorted((r for r in ROUTES if r.access == AGENT),
                   key=lambda r: r.name == "agent_logout")  # logging out last
    assert len(staff) >= 9
    for route in staff:
        url = _walk_url(route.path)
        call = api.get if route.method == "GET" else api.post
        assert_problem(call(url, member_token, json={}), 403, "wrong_audience")
        for who in (clerk, boss):
            r = call(url, who["session"]["access_token"], json={})
            if route.required_role == "supervisor" and who is clerk:
                body = assert_problem(r, 403, "role_required")
                assert body["role"] == "supervisor"
            else:
                assert r.status_code not in (401, 403), (route.path, r.text)


def test_services_check_the_role_again(test_env, suite):
    """A call that skipped the gateway's check, as an agent without the role or as a
    member, is refused by the service itself."""
    from services.kit.client import RpcClient
    from services.kit.errors import Forbidden

    for context in ({"actor_type": "agent", "actor_id": str(uuid.uuid4()),
                     "actor_roles": "agent"},
                    {"actor_type": "member", "actor_id": str(uuid.uuid4())}):
        # the test harness's broker user relays a context, as the gateway does
        with RpcClient(test_env["AMQP_URI"], timeout=30, context_data=context) as proxy:
            with pytest.raises(Forbidden) as refused:
                proxy.auth.create_agent("intruder", "Intruder", ["supervisor"], PASSWORD)
            assert refused.value.code == "role_required"
            with pytest.raises(Forbidden):
                proxy.auth.reset_agent_factor(str(uuid.uuid4()))
            if context["actor_type"] == "member":
                with pytest.raises(Forbidden):
                    proxy.documents.agent_queue(None, None, 20)
                with pytest.raises(Forbidden):
                    proxy.auth.enrol_development_factor("agent")


def test_the_queue_audits_every_member_it_shows(api, suite, rpc, test_env):
    from tests.e2e.test_requests import create

    member = new_member(rpc, email=f"q{uuid.uuid4().hex[:8]}@example.mc",
                        email_validated=True)
    token = api.login(member["identifier"], member["password"])["access_token"]
    r = create(api, token, "data_correction",
               {"field": "last_name", "new_value": "Martin", "reason": "Marriage"})
    assert r.status_code == 201, r.text
    agent = api.agent_login()["access_token"]
    queue = api.get("/api/v1/agent/requests?status=submitted&limit=100", agent).json()
    assert r.json()["id"] in [i["id"] for i in queue["items"]]
    engine = sa.create_engine(test_env["DOCUMENTS_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT actor_type, actor_id, details FROM audit_log "
            "WHERE member_id = :m AND action = 'requests.read_in_queue'"),
            {"m": member["member_id"]}).all()
    engine.dispose()
    assert rows and rows[-1].actor_type == "agent" and rows[-1].actor_id
    assert r.json()["id"] in rows[-1].details["request_ids"]


def test_a_gateway_with_staff_routes_off(suite, test_env, api):
    """The public gateway: every staff route is 404 not_found and left out of OpenAPI,
    members' routes work as ever."""
    port = slot_port(18091)
    env = {**suite.env, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
           "GATEWAY_STAFF_ROUTES": "false"}
    log = open(Path(test_env["VAR_DIR"]) / "public-gateway.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "services.kit.runner",
                             "gateway.service:GatewayService"], env=env,
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the public gateway exited"
            try:
                with urllib.request.urlopen(base + "/health", timeout=3) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the public gateway did not start"
            time.sleep(0.3)
        from tests.support import Api

        public = Api(base)
        for route in ROUTES:
            if route.staff:
                call = public.get if route.method == "GET" else public.post
                assert_problem(call(_walk_url(route.path), json={}), 404, "not_found")
        paths = public.get("/api/v1/openapi.json").json()["paths"]
        assert "/api/v1/me" in paths
        assert not [p for p in paths if p.startswith("/api/v1/agent")]
        assert "/api/v1/agent/login" in api.get("/api/v1/openapi.json").json()["paths"]
        assert public.post("/api/v1/auth/login", json={
            "identifier": "123456-03091985", "password": "Azur#718",
            "client": "mobile"}).status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
