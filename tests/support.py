"""Helpers shared by the service and end-to-end tests."""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

import requests

# MEMBERSPACE_TEST_SLOT (a small number) gives a run its own vhost, databases and ports,
# so that several checkouts on one machine can run `make test` at the same time.
SLOT = int(os.environ.get("MEMBERSPACE_TEST_SLOT") or 0)
TEST_NAME = f"memberspace_test{SLOT or ''}"
TEST_ENV = {"vhost": TEST_NAME, "port": str(18000 + 100 * SLOT)}
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"


def test_port(base: int) -> int:
    """A fixed test port (18000-18099), moved to this run's slot."""
    return base + 100 * SLOT


test_port.__test__ = False  # a helper, not a test, wherever a test module imports it


def harness_uri(vhost: str, user: str = "memberspace-tests") -> str:
    """An identity's URI on a test virtual host (fixed development passwords)."""
    from deploy.broker import identity_uri

    return identity_uri(f"amqp://127.0.0.1:5672/{vhost}", user)


# each process's /metrics, /livez, /readyz (services.kit.probes)
METRICS_PORTS = {name: test_port(18060 + i) for i, name in enumerate(
    ("auth", "notifications", "benefits", "documents", "pension", "gateway"))}


def suite_overrides(signing_key: Path) -> dict[str, str]:
    return {
        # the test harness's broker identity (the suite's processes log in as their own)
        "AMQP_URI": harness_uri(TEST_ENV["vhost"]),
        "AUTH_DATABASE_URL": f"{PG}/{TEST_NAME}_auth",
        "AUTH_SIGNING_KEY_FILE": str(signing_key),
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{TEST_ENV['port']}",
        "BENEFITS_APPLE_WEB_SERVICE_URL":
            f"http://127.0.0.1:{TEST_ENV['port']}/api/v1/wallet/apple",
        "LOG_LEVEL": "INFO",
        "RPC_TIMEOUT": "10",
        "GATEWAY_REDIS_PREFIX": f"memberspace-test:{uuid.uuid4().hex}:",
        "GATEWAY_COOKIE_SECURE": "false",
        "GATEWAY_CORS_ORIGINS": "https://app.example.mc",
        "GATEWAY_WEB_APP_URL": "https://app.example.mc/home",
        "GATEWAY_MOBILE_REDIRECT_URL": "memberspace://mconnect",
        "AUTH_MCONNECT_REDIRECT_URI":
            f"http://127.0.0.1:{TEST_ENV['port']}/api/v1/auth/mconnect/callback",
        "AUTH_LOCKOUT_THRESHOLD": "5",
        # cheap password hashing for the tests (the production parameters are the
        # settings' defaults: tests/unit/auth/test_hashing.py keeps them; make bench)
        "AUTH_ARGON2_TIME_COST": "1",
        "AUTH_ARGON2_MEMORY_KIB": "8192",
        "AUTH_ARGON2_PARALLELISM": "1",
        "NOTIFICATIONS_DATABASE_URL": f"{PG}/{TEST_NAME}_notifications",
        "BENEFITS_DATABASE_URL": f"{PG}/{TEST_NAME}_benefits",
        "DOCUMENTS_DATABASE_URL": f"{PG}/{TEST_NAME}_documents",
        # a request type owned by a test service, plugged in through the hooks
        "DOCUMENTS_EXTERNAL_TYPES": "hooked_statement=reqowner:submitted:auto,"
                                    "hooked_application=reqowner:draft,"
                                    "plain_request=reqplain:submitted,"
                                    "career_statement=pension:submitted:auto,"
                                    "retirement_pension=pension:draft,"
                                    "survivor_pension=pension:draft",
        "PENSION_DATABASE_URL": f"{PG}/{TEST_NAME}_pension",
        "NOTIFICATIONS_SMTP_PORT": str(test_port(18025)),
        "NOTIFICATIONS_PUBLIC_BASE_URL": "https://app.example.mc",
        "GATEWAY_LOGIN_LIMIT_PER_IP": "100000",
        "GATEWAY_PASSWORD_CHECK_LIMIT_PER_IP": "40",
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{test_port(18055)}",
        "S3_BUCKET_PREFIX": f"{TEST_NAME.replace('_', '-')}-",
        "METRICS_ADDRESS": "127.0.0.1",
        **{f"{name.upper()}_METRICS_PORT": str(port) for name, port in METRICS_PORTS.items()},
    }


class Api:
    """A small HTTP client for the gateway under test."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def request(self, method: str, path: str, token: str | None = None,
                **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=30,
                                 **kwargs)

    def get(self, path: str, token: str | None = None, **kw: Any) -> requests.Response:
        return self.request("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, token, **kw)

    def login(self, identifier: str, password: str, client: str = "mobile") -> dict[str, Any]:
        r = self.post("/api/v1/auth/login",
                      json={"identifier": identifier, "password": password, "client": client})
        assert r.status_code == 200, r.text
        return r.json()

    def agent_login(self, username: str = "agent", password: str = "Harbour-Desk-2026",
                    secret: str | None = None) -> dict[str, Any]:
        """An agent's session (the demo agent's by default), with a fresh TOTP code."""
        r = self.post("/api/v1/agent/login",
                      json={"username": username, "password": password,
                            "otp": totp_code(secret or DEMO_OTP_SECRET)})
        assert r.status_code == 200, r.text
        return r.json()


# the demo staff accounts (deploy/demo.py), enrolled with the development secret
DEMO_OTP_SECRET = "JBSWY3DPEHPK3PXP"
SUPERVISOR_LOGIN = {"username": "supervisor", "password": "Lighthouse-Desk-2026"}
_used_steps: dict[str, int] = {}


def totp_code(secret: str) -> str:
    """A code auth has not seen yet: auth refuses a code of a step already used, and
    accepts one step of drift, so this gives the current step's code, else the next
    one's, else waits for the next step."""
    import pyotp

    while True:
        now = int(time.time()) // 30
        step = max(now, _used_steps.get(secret, -1) + 1)
        if step <= now + 1:
            _used_steps[secret] = step
            return pyotp.TOTP(secret).generate_otp(step)
        time.sleep(30 - time.time() % 30 + 0.1)


def assert_problem(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith(code) and body["title"] and body["detail"]
    return body


def new_member(rpc: Any, *, password: str | None = "Quai#482", must_change: bool = False,
               fund: str = "CCSS", number: str | None = None,
               birth_date: dt.date | None = None, **fields: Any) -> dict[str, Any]:
    """Create a member with a fresh registration number; returns identity + login."""
    if number is None:
        number = (str(random.randint(700000, 799999)) if fund in ("CAMTI", "CARTI")
                  else str(random.randint(100000, 699999)))
    birth_date = birth_date or dt.date(1960, 1, 1) + dt.timedelta(days=random.randint(0, 14000))
    member = {
        "first_name": "Test", "last_name": "Member", "birth_date": birth_date.isoformat(),
        "sex": "F", "email": None, "email_validated": False, "language": "fr",
        "subscriptions": [{"fund": fund, "registration_number": number}],
        **fields,
    }
    created = rpc.auth.create_member(member)
    if password:
        rpc.auth.set_credentials(created["member_id"], {
            "password": password, "must_change_password": must_change})
    created["identifier"] = f"{number}-{birth_date:%d%m%Y}"
    created["password"] = password
    return created


def wait_for_mail(mail_dir: Path, to: str, contains: str = "", timeout: float = 15.0,
                  after: float = 0.0) -> Any:
    """The first .eml the local SMTP sink kept for `to` (newer than `after`)."""
    import email
    import email.policy
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml")):
            if path.stat().st_mtime < after:
                continue
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to in str(message["To"]):
                text = message.get_body(("plain",)).get_content()
                if contains in text or contains in str(message["Subject"]):
                    return message
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {to} containing {contains!r}")


def link_token(message: Any, path: str) -> str:
    import re

    text = message.get_body(("plain",)).get_content()
    found = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-%]+)", text)
    assert found, text
    from urllib.parse import unquote

    return unquote(found.group(1))


def wait_for_alert(api: Api, token: str, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = api.get("/api/v1/me/notifications", token).json()
        for item in page.get("items", []):
            if item["kind"] == kind:
                return item
        time.sleep(0.1)
    raise AssertionError(f"no {kind} alert")
