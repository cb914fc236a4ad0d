"""A real OpenID Connect provider for tests: oidc-provider-mock in its own process.

oidc-provider-mock (pinned 0.3.4) serves discovery at
``/.well-known/openid-configuration`` with ``issuer`` = ``http://127.0.0.1:<port>``,
signs ID tokens with RS256 (a fresh RSA key per process, JWKS at ``/jwks``), and
keeps everything in memory, so each process is a clean provider.

How it is driven:

* Clients: unless started with ``require_registration=True`` it accepts any
  client id, any secret, any redirect URI and any token endpoint auth method.
  `OidcProvider.register_client` registers a real client (``POST /oauth2/clients``,
  RFC 7591); the provider picks its id and secret and then checks the secret, the
  redirect URIs and the auth method for that client.
* Users: the authorization page (``/oauth2/authorize``) is an HTML form with a
  single text field, ``sub``, posted back to the same URL (plus a "deny" form,
  ``action=deny``). It has no claim fields: claims are set beforehand with
  ``PUT /users/<sub>`` and a JSON object, and non-standard ones (such as
  ``registration_number``) go into both the ID token and userinfo. Standard
  claims are filtered by scope (``email`` needs the ``email`` scope).
* Nonce: echoed into the ID token; with ``require_nonce=True`` (our default) a
  request without one is refused.
* PKCE: 0.3.4 does not check ``code_verifier`` (authlib's CodeChallenge extension
  is not registered), and its discovery lists no ``code_challenge_methods_supported``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

MOCK_VERSION = "0.3.4"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Forms(HTMLParser):
    """Collects each form's method, action and named inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (attributes.get("method") or "get").lower(),
                               "action": attributes.get("action") or "", "fields": {}})
        elif tag in ("input", "button") and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


def complete_login(authorization_url: str, subject: str, claims: dict[str, Any],
                   timeout: float = 10.0) -> str:
    """Log in at the provider as `subject` with `claims`, like a user would.

    Sets the user's claims at the provider (``PUT /users/<sub>``, which replaces
    them), opens the authorization page, submits its form with ``sub`` and returns
    the ``Location`` the provider redirects to (our redirect URI with ``code`` and
    ``state``, or with ``error``) without following it.
    """
    parts = urlsplit(authorization_url)
    base = f"{parts.scheme}://{parts.netloc}"
    http = requests.Session()
    resp = http.put(f"{base}/users/{quote(subject, safe='')}", json=claims, timeout=timeout)
    if resp.status_code != 204:
        raise RuntimeError(f"the provider refused the user's claims: HTTP {resp.status_code}")
    page = http.get(authorization_url, allow_redirects=False, timeout=timeout)
    if page.is_redirect:  # the provider refused the request and sends the error back
        return page.headers["Location"]
    if page.status_code != 200:
        raise RuntimeError(f"the authorization page failed: HTTP {page.status_code}: "
                           f"{page.text[:300]}")
    parser = _Forms()
    parser.feed(page.text)
    form = next((f for f in parser.forms if "sub" in f["fields"]), None)
    if form is None:
        raise RuntimeError("the authorization page has no form with a 'sub' field")
    fields = {**form["fields"], "sub": subject}
    target = urljoin(authorization_url, form["action"]) if form["action"] else authorization_url
    if form["method"] == "post":
        done = http.post(target, data=fields, allow_redirects=False, timeout=timeout)
    else:
        done = http.get(target, params=fields, allow_redirects=False, timeout=timeout)
    if not done.is_redirect:
        raise RuntimeError(f"the provider did not redirect after login: HTTP "
                           f"{done.status_code}: {done.text[:300]}")
    return done.headers["Location"]


class OidcProvider:
    """oidc-provider-mock as a separate process on a free 127.0.0.1 port."""

    def __init__(self, *, require_registration: bool = False, require_nonce: bool = True,
                 token_max_age: int | None = None, startup_timeout: float = 30.0):
        self.require_registration = require_registration
        self.require_nonce = require_nonce
        self.token_max_age = token_max_age
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def issuer(self) -> str:
        if self.port is None:
            raise RuntimeError("the provider is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def log_path(self) -> Path:
        assert self._log_dir is not None
        return Path(self._log_dir.name) / "oidc-provider-mock.log"

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except (AssertionError, OSError):
            return ""

    def start(self) -> OidcProvider:
        """Start the process and wait until its discovery document answers."""
        if self.process is not None:
            return self
        self._log_dir = tempfile.TemporaryDirectory(prefix="oidc-mock-")
        last_error = "not started"
        for _ in range(3):  # a free port may be taken before the mock binds it
            self.port = free_port()
            args = [sys.executable, "-W", "ignore", "-m", "oidc_provider_mock",
                    "--host", "127.0.0.1", "--port", str(self.port),
                    "--require-registration", str(self.require_registration).lower(),
                    "--require-nonce", str(self.require_nonce).lower()]
            if self.token_max_age is not None:
                args += ["--token-max-age", str(self.token_max_age)]
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env={**os.environ, "NO_COLOR": "1"})
            last_error = self._wait_ready()
            if not last_error:
                return self
            self._terminate()
        raise RuntimeError(f"oidc-provider-mock did not start: {last_error}\n{self.log_tail()}")

    def _wait_ready(self) -> str:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"exited with {self.process.returncode}"
            try:
                if requests.get(self.discovery_url, timeout=1).status_code == 200:
                    return ""
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return f"no discovery answer within {self.startup_timeout}s"

    def _terminate(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """Stop the process (idempotent) and drop its log."""
        self._terminate()
        if self._log_dir is not None:
            self._log_dir.cleanup()
            self._log_dir = None

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- provider state -------------------------------------------------------

    def register_client(self, redirect_uris: list[str],
                        auth_method: str = "client_secret_basic",
                        scope: str | None = None) -> tuple[str, str]:
        """Register a client (RFC 7591); returns the (client_id, client_secret) the
        provider chose. The provider then checks that secret, those redirect URIs
        and that token endpoint auth method."""
        body: dict[str, Any] = {"redirect_uris": redirect_uris,
                                "token_endpoint_auth_method": auth_method}
        if scope is not None:
            body["scope"] = scope
        resp = requests.post(f"{self.issuer}/oauth2/clients", json=body, timeout=10)
        if resp.status_code != 201:
            raise RuntimeError(f"client registration failed: HTTP {resp.status_code}: "
                               f"{resp.text[:300]}")
        answer = resp.json()
        return answer["client_id"], answer["client_secret"]

    def set_user(self, subject: str, claims: dict[str, Any]) -> None:
        """Replace the claims the provider issues for `subject`."""
        resp = requests.put(f"{self.issuer}/users/{quote(subject, safe='')}",
                            data=json.dumps(claims),
                            headers={"Content-Type": "application/json"}, timeout=10)
        if resp.status_code != 204:
            raise RuntimeError(f"setting the user failed: HTTP {resp.status_code}")

    def complete_login(self, authorization_url: str, subject: str,
                       claims: dict[str, Any]) -> str:
        """See the module-level `complete_login`."""
        if not authorization_url.startswith(self.issuer + "/"):
            raise ValueError("the authorization URL is not this provider's")
        return complete_login(authorization_url, subject, claims)
