"""Talking to the suite as its clients do: JSON over HTTP through the gateway, a login,
a kept-alive connection for polling, and members created for the purpose over RPC."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import time
import urllib.error
import urllib.request
from typing import Any

from tests.bench.settings import EMPLOYEE, GATEWAY_ADDRESS, LOGIN_URL

BENCH_MEMBER_PASSWORD = "Quai#482"  # follows the password rules


def post_json(url: str, body: dict[str, Any], timeout: float = 30.0,
              token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (a fixed http://127.0.0.1 URL)
        url, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def login(identifier: str, password: str) -> dict[str, Any]:
    status, answer = post_json(LOGIN_URL, {"identifier": identifier, "password": password,
                                           "client": "mobile"})
    if status != 200 or "access_token" not in answer:
        raise RuntimeError(f"login of {identifier} answered {status}: {answer}")
    return answer


class Token:
    """Marie's access token, renewed before it expires (long BENCH_DURATION runs)."""

    def __init__(self) -> None:
        self.value = ""
        self.renew_at = 0.0

    def get(self) -> str:
        if time.monotonic() >= self.renew_at:
            answer = login(*EMPLOYEE)
            self.value = answer["access_token"]
            self.renew_at = time.monotonic() + int(answer.get("expires_in", 900)) / 2
        return self.value


class MePoller:
    """GET `path` (default /api/v1/me) over one kept-alive connection, so that a poll
    costs one round trip (no TCP connect): (status, problem code or None, seconds the
    round trip took); `fetch` answers the body instead of the problem code."""

    def __init__(self, path: str = "/api/v1/me") -> None:
        host, port = GATEWAY_ADDRESS.rsplit(":", 1)
        self.path = path
        self.connection = http.client.HTTPConnection(host, int(port), timeout=10)

    def fetch(self, token: str) -> tuple[int, bytes, float]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        for attempt in (1, 2):  # once more on a fresh connection if the server closed it
            started = time.perf_counter()
            try:
                self.connection.request("GET", self.path, headers=headers)
                answer = self.connection.getresponse()
                body = answer.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if answer.will_close:
                self.connection.close()
            return answer.status, body, elapsed
        raise AssertionError("unreachable")

    def get(self, token: str) -> tuple[int, str | None, float]:
        status, body, elapsed = self.fetch(token)
        code = None
        if status != 200:
            try:
                code = json.loads(body or b"{}").get("code")
            except ValueError:
                code = None
        return status, code, elapsed

    def close(self) -> None:
        self.connection.close()


def bench_member(amqp_uri: str, last_name: str, **fields: Any) -> dict[str, Any]:
    """A member created for the purpose over RPC (as tests/support.py `new_member`
    does; `fields` override the member's, e.g. email); returns the created member plus
    `identifier` and `password`."""
    from deploy.demo import DEMO_PEOPLE, _find
    from deploy.seed_large import FIRST_NUMBER, LAST_NUMBER
    from services.kit.client import RpcClient

    taken = {sub["registration_number"] for person in DEMO_PEOPLE
             for sub in person["member"]["subscriptions"]}
    birth_date = dt.date(1960, 1, 1) + dt.timedelta(days=random.randint(0, 14000))
    password = BENCH_MEMBER_PASSWORD
    with RpcClient(amqp_uri, timeout=30) as rpc:
        # not the seeded range, nor a bench member of an earlier run (the databases stay)
        number = ""
        while (not number or number in taken or FIRST_NUMBER <= int(number) <= LAST_NUMBER
               or _find(rpc, number)):
            number = str(random.randint(100000, 699999))
        member = {
            "first_name": "Bench", "last_name": last_name,
            "birth_date": birth_date.isoformat(), "sex": "F", "email": None,
            "email_validated": False, "language": "fr",
            "subscriptions": [{"fund": "CCSS", "registration_number": number}],
            **fields,
        }
        created = rpc.auth.create_member(member)
        rpc.auth.set_credentials(created["member_id"], {
            "password": password, "must_change_password": False})
    return {**created, "identifier": f"{number}-{birth_date:%d%m%Y}", "password": password}
