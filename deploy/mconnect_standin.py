"""A local stand-in for MConnect, the State's identity provider, for `make run` and the
browser tests: `oidc-provider-mock` (the OpenID provider the tests use) in its own
process, with a registered client for the gateway's callback and the demo people as
users carrying their `registration_number` claim.

It is not MConnect: its login page asks only for a user name (`sub`), e.g.
`paul.garnier`, and signs whatever it was told. Production points
AUTH_MCONNECT_DISCOVERY_URL at the real provider.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import unicodedata
import urllib.request
from pathlib import Path
from typing import Any

from deploy.demo import DEMO_PEOPLE


def subject(person: dict[str, Any]) -> str:
    """`paul.garnier`: the name a demo person types on the stand-in's page."""
    name = f"{person['first_name']}.{person['last_name']}".lower()
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def demo_users() -> dict[str, dict[str, Any]]:
    users = {}
    for person in DEMO_PEOPLE:
        member = person["member"]
        users[subject(member)] = {
            "registration_number": member["subscriptions"][0]["registration_number"],
            "name": f"{member['first_name']} {member['last_name']}",
            "given_name": member["first_name"], "family_name": member["last_name"],
            "birthdate": member["birth_date"]}
    return users


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return answer.status, answer.read()


def start(host: str, port: int, redirect_uri: str, log_path: Path,
          env: dict[str, str]) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start the provider, register the gateway as a client and the demo people as
    users; returns the process and the auth settings that point at it."""
    issuer = f"http://{host}:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-W", "ignore", "-m", "oidc_provider_mock", "--host", host,
             "--port", str(port), "--require-registration", "true", "--require-nonce", "true"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            if _call("GET", f"{issuer}/.well-known/openid-configuration")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the MConnect stand-in did not start on {issuer}; see "
                               f"{log_path}")
        time.sleep(0.2)
    _, raw = _call("POST", f"{issuer}/oauth2/clients",
                   {"redirect_uris": [redirect_uri],
                    "token_endpoint_auth_method": "client_secret_basic"})
    client = json.loads(raw)
    for sub, claims in demo_users().items():
        _call("PUT", f"{issuer}/users/{sub}", claims)
    return process, {
        "AUTH_MCONNECT_DISCOVERY_URL": f"{issuer}/.well-known/openid-configuration",
        "AUTH_MCONNECT_CLIENT_ID": client["client_id"],
        "AUTH_MCONNECT_CLIENT_SECRET": client["client_secret"],
        "AUTH_MCONNECT_REDIRECT_URI": redirect_uri}
