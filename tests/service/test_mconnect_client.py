"""The MConnect OpenID Connect client against a real provider process
(oidc-provider-mock), plus the ID-token checks that provider cannot be made to
fail, against a scripted in-process transport."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.auth.mconnect import (
    AuthorizationRequest,
    MConnectClient,
    MConnectConfig,
    MConnectError,
    code_challenge,
)
from tests.support import TEST_ENV
from tests.support_oidc import OidcProvider, free_port

REDIRECT_URI = f"http://127.0.0.1:{TEST_ENV['port']}/api/v1/auth/mconnect/callback"


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# -- against the real provider -----------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(require_nonce=True) as running:
        yield running


@pytest.fixture(scope="module")
def config(provider: OidcProvider) -> MConnectConfig:
    """A registered client, so the provider really checks our secret."""
    client_id, client_secret = provider.register_client([REDIRECT_URI])
    return MConnectConfig(discovery_url=provider.discovery_url, client_id=client_id,
                          client_secret=client_secret, redirect_uri=REDIRECT_URI,
                          registration_claim="registration_number")


@pytest.fixture()
def client(config: MConnectConfig) -> MConnectClient:
    return MConnectClient(config)


def _login(provider: OidcProvider, client: MConnectClient, subject: str,
           claims: dict[str, Any]) -> tuple[AuthorizationRequest, str]:
    request = client.authorization_request()
    location = provider.complete_login(request.url, subject, claims)
    assert location.startswith(REDIRECT_URI + "?")
    answer = _query(location)
    assert answer.get("state") == request.state, answer.get("error_description")
    return request, answer["code"]


def test_authorization_url_carries_pkce_state_and_nonce(
        provider: OidcProvider, client: MConnectClient, config: MConnectConfig) -> None:
    request = client.authorization_request()
    url = urlsplit(request.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/oauth2/authorize"
    params = _query(request.url)
    assert params == {
        "response_type": "code", "client_id": config.client_id,
        "redirect_uri": REDIRECT_URI, "scope": "openid profile",
        "state": request.state, "nonce": request.nonce,
        "code_challenge": code_challenge(request.code_verifier),
        "code_challenge_method": "S256",
    }
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(request.code_verifier) <= 128
    assert len(request.state) >= 43 and len(request.nonce) >= 43  # >= 32 random bytes
    other = client.authorization_request()
    assert {other.state, other.nonce, other.code_verifier}.isdisjoint(
        {request.state, request.nonce, request.code_verifier})


def test_full_flow(provider: OidcProvider, client: MConnectClient,
                   config: MConnectConfig) -> None:
    request, code = _login(provider, client, "mc-123", {"registration_number": "123456"})
    identity = client.exchange(code, request.code_verifier, request.nonce)
    assert identity.issuer == provider.issuer
    assert identity.subject == "mc-123"
    assert identity.registration_number == "123456"
    assert config.client_id in identity.claims["aud"]  # the mock sends a one-item list
    assert identity.claims["nonce"] == request.nonce


def test_wrong_nonce_is_rejected(provider: OidcProvider, client: MConnectClient) -> None:
    request, code = _login(provider, client, "mc-123", {"registration_number": "123456"})
    with pytest.raises(MConnectError) as caught:
        client.exchange(code, request.code_verifier, "not-the-nonce-of-this-login")
    assert caught.value.code == "mconnect_rejected"
    assert "nonce" in caught.value.detail


def test_replayed_code_is_rejected(provider: OidcProvider, client: MConnectClient) -> None:
    request, code = _login(provider, client, "mc-123", {"registration_number": "123456"})
    client.exchange(code, request.code_verifier, request.nonce)
    with pytest.raises(MConnectError) as caught:
        client.exchange(code, request.code_verifier, request.nonce)
    assert caught.value.code == "mconnect_rejected"
    assert "invalid_grant" in caught.value.detail
    assert code not in str(caught.value)


def test_wrong_code_verifier_is_rejected(provider: OidcProvider,
                                         client: MConnectClient) -> None:
    request, code = _login(provider, client, "mc-123", {"registration_number": "123456"})
    wrong = "x" * 64
    try:
        client.exchange(code, wrong, request.nonce)
    except MConnectError as error:
        assert error.code == "mconnect_rejected"
        return
    pytest.skip("oidc-provider-mock 0.3.4 does not check PKCE: it never registers authlib's "
                "CodeChallenge extension, so any code_verifier is accepted")


def test_wrong_client_secret_is_rejected(provider: OidcProvider,
                                         config: MConnectConfig) -> None:
    honest = MConnectClient(config)
    request, code = _login(provider, honest, "mc-123", {"registration_number": "123456"})
    impostor = MConnectClient(MConnectConfig(
        discovery_url=config.discovery_url, client_id=config.client_id,
        client_secret="not-the-secret", redirect_uri=REDIRECT_URI,
        registration_claim="registration_number"))
    with pytest.raises(MConnectError) as caught:
        impostor.exchange(code, request.code_verifier, request.nonce)
    assert caught.value.code == "mconnect_rejected"
    assert "invalid_client" in caught.value.detail
    assert "not-the-secret" not in str(caught.value)


def test_registration_number_from_userinfo(provider: OidcProvider,
                                           config: MConnectConfig) -> None:
    """The claim reaches the provider only after the ID token was issued, so the
    client must find it through userinfo."""

    class LateClaims(requests.Session):
        def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                    *args: Any, **kwargs: Any) -> requests.Response:
            if str(url).endswith("/userinfo"):
                provider.set_user("mc-late", {"registration_number": "654321"})
            return super().request(method, url, *args, **kwargs)

    client = MConnectClient(config, session=LateClaims())
    request, code = _login(provider, client, "mc-late", {})
    identity = client.exchange(code, request.code_verifier, request.nonce)
    assert identity.subject == "mc-late"
    assert identity.registration_number == "654321"


def test_missing_registration_number_is_none(provider: OidcProvider,
                                             client: MConnectClient) -> None:
    request, code = _login(provider, client, "mc-nobody", {"name": "Nobody"})
    identity = client.exchange(code, request.code_verifier, request.nonce)
    assert identity.subject == "mc-nobody"
    assert identity.registration_number is None
    assert identity.claims["name"] == "Nobody"


def test_unreachable_provider_is_unavailable() -> None:
    port = free_port()  # nobody listens there
    client = MConnectClient(MConnectConfig(
        discovery_url=f"http://127.0.0.1:{port}/.well-known/openid-configuration",
        client_id="member-space", client_secret="s3cret", redirect_uri=REDIRECT_URI,
        registration_claim="registration_number", http_timeout=2.0))
    for attempt in (client.metadata, client.authorization_request,
                    lambda: client.exchange("code", "v" * 43, "nonce")):
        with pytest.raises(MConnectError) as caught:
            attempt()
        assert caught.value.code == "mconnect_unavailable"
        assert "s3cret" not in str(caught.value)


# -- against a scripted provider: what the mock cannot be made to do --------------

ISSUER = "https://mconnect.test"
CLIENT_ID = "member-space"
NONCE = "n-0123456789"
Handler = Callable[[requests.PreparedRequest], tuple[int, Any]]


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _rsa()
OTHER_KEY = _rsa()


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "mc-9", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
              "nonce": NONCE, "registration_number": "999999"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], key: rsa.RSAPrivateKey = KEY, kid: str = "k1",
            alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


class Scripted(requests.adapters.BaseAdapter):
    """Answers requests for https://mconnect.test from a table of handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.seen.append(request)
        handler = self.routes.get((str(request.method), str(request.url).split("?")[0]))
        if handler is None:
            raise requests.ConnectionError("connection refused")
        status, body = handler(request)
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.headers["Content-Type"] = ("text/html" if isinstance(body, bytes)
                                            else "application/json")
        response.url, response.request = str(request.url), request
        return response

    def close(self) -> None:
        pass


def _discovery(**changes: Any) -> dict[str, Any]:
    return {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "id_token_signing_alg_values_supported": ["RS256", "PS256"], **changes}


def _scripted(id_token: str | None = None, *, discovery: dict[str, Any] | None = None,
              token: Handler | None = None) -> tuple[MConnectClient, Scripted]:
    adapter = Scripted()
    adapter.routes[("GET", f"{ISSUER}/.well-known/openid-configuration")] = (
        lambda _: (200, discovery or _discovery()))
    adapter.routes[("GET", f"{ISSUER}/jwks")] = lambda _: (200, {"keys": [_jwk(KEY, "k1")]})
    adapter.routes[("POST", f"{ISSUER}/token")] = token or (
        lambda _: (200, {"token_type": "Bearer", "access_token": "at", "id_token": id_token}))
    session = requests.Session()
    session.mount(ISSUER, adapter)
    config = MConnectConfig(discovery_url=f"{ISSUER}/.well-known/openid-configuration",
                            client_id=CLIENT_ID, client_secret="s3:cr&t",
                            redirect_uri=REDIRECT_URI, registration_claim="registration_number")
    return MConnectClient(config, session=session), adapter


def _exchange(client: MConnectClient) -> Any:
    return client.exchange("the-code", "v" * 43, NONCE)


def test_scripted_valid_token_is_accepted() -> None:
    client, adapter = _scripted(_signed(_claims(exp=int(time.time()) - 30)))  # within leeway
    identity = _exchange(client)
    assert (identity.subject, identity.registration_number) == ("mc-9", "999999")
    token_call = next(r for r in adapter.seen if r.method == "POST")
    expected = base64.b64encode(b"member-space:s3%3Acr%26t").decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    form = parse_qs(str(token_call.body))
    assert form["grant_type"] == ["authorization_code"] and "client_secret" not in form
    assert form["code"] == ["the-code"]
    assert form["code_verifier"] == ["v" * 43]  # PKCE: the verifier goes with the code


def _hs256_with_public_key() -> str:
    """The classic key confusion: HS256 keyed with the provider's public key."""
    public = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    head = _b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    mac = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def _unsigned() -> str:
    head = _b64(json.dumps({"alg": "none", "kid": "k1"}).encode())
    return f"{head}.{_b64(json.dumps(_claims()).encode())}."


@pytest.mark.parametrize("id_token", [
    pytest.param(lambda: _signed(_claims(), key=OTHER_KEY), id="bad-signature"),
    pytest.param(lambda: _signed(_claims(iss="https://evil.test")), id="wrong-iss"),
    pytest.param(lambda: _signed(_claims(aud="someone-else")), id="wrong-aud"),
    pytest.param(lambda: _signed(_claims(aud=[CLIENT_ID, "other"])), id="many-aud-no-azp"),
    pytest.param(lambda: _signed(_claims(azp="other")), id="wrong-azp"),
    pytest.param(lambda: _signed(_claims(exp=int(time.time()) - 120)), id="expired"),
    pytest.param(lambda: _signed(_claims(iat=int(time.time()) + 3600)), id="issued-in-future"),
    pytest.param(lambda: _signed(_claims(nonce=None)), id="no-nonce"),
    pytest.param(lambda: _signed(_claims(exp=None)), id="no-exp"),
    pytest.param(lambda: _signed(_claims(), kid="unknown"), id="unknown-kid"),
    pytest.param(lambda: _signed(_claims(), key=OTHER_KEY, alg="PS256"), id="ps256-other-key"),
    pytest.param(_hs256_with_public_key, id="hs256-key-confusion"),
    pytest.param(_unsigned, id="alg-none"),
    pytest.param(lambda: "not.a.jwt", id="garbage"),
])
def test_scripted_bad_id_token_is_rejected(id_token: Callable[[], str]) -> None:
    client, _ = _scripted(id_token())
    with pytest.raises(MConnectError) as caught:
        _exchange(client)
    assert caught.value.code == "mconnect_rejected"


def test_scripted_many_audiences_with_our_azp_are_accepted() -> None:
    client, _ = _scripted(_signed(_claims(aud=[CLIENT_ID, "other"], azp=CLIENT_ID)))
    assert _exchange(client).subject == "mc-9"


def test_scripted_key_rotation_refetches_keys_once() -> None:
    client, adapter = _scripted(_signed(_claims(), key=OTHER_KEY, kid="k2"))
    client.metadata()
    client._fetch_keys(f"{ISSUER}/jwks")  # cache holds only k1
    adapter.routes[("GET", f"{ISSUER}/jwks")] = lambda _: (
        200, {"keys": [_jwk(KEY, "k1"), _jwk(OTHER_KEY, "k2")]})
    assert _exchange(client).subject == "mc-9"
    assert sum(1 for r in adapter.seen if str(r.url).endswith("/jwks")) == 2


@pytest.mark.parametrize(("token", "code"), [
    pytest.param(lambda _: (503, {"error": "busy"}), "mconnect_unavailable", id="5xx"),
    pytest.param(lambda _: (200, b"<html>maintenance</html>"), "mconnect_unavailable",
                 id="not-json"),
    pytest.param(lambda _: (400, {"error": "invalid_grant"}), "mconnect_rejected",
                 id="invalid-grant"),
    pytest.param(lambda _: (200, {"token_type": "Bearer", "access_token": "at"}),
                 "mconnect_rejected", id="no-id-token"),
])
def test_scripted_token_endpoint_failures(token: Handler, code: str) -> None:
    client, _ = _scripted(token=token)
    with pytest.raises(MConnectError) as caught:
        _exchange(client)
    assert caught.value.code == code
    assert "the-code" not in str(caught.value) and "s3:cr&t" not in str(caught.value)


def test_scripted_client_secret_post_when_basic_is_not_offered() -> None:
    client, adapter = _scripted(_signed(_claims()), discovery=_discovery(
        token_endpoint_auth_methods_supported=["client_secret_post", "private_key_jwt"]))
    _exchange(client)
    token_call = next(r for r in adapter.seen if r.method == "POST")
    assert "Authorization" not in token_call.headers
    form = parse_qs(str(token_call.body))
    assert form["client_id"] == [CLIENT_ID] and form["client_secret"] == ["s3:cr&t"]


@pytest.mark.parametrize("discovery", [
    pytest.param(_discovery(issuer="https://other.test"), id="issuer-mismatch"),
    pytest.param(_discovery(id_token_signing_alg_values_supported=["HS256", "none"]),
                 id="no-safe-algorithm"),
    pytest.param({"issuer": ISSUER}, id="incomplete"),
])
def test_scripted_bad_discovery_is_unavailable(discovery: dict[str, Any]) -> None:
    client, _ = _scripted(_signed(_claims()), discovery=discovery)
    with pytest.raises(MConnectError) as caught:
        _exchange(client)
    assert caught.value.code == "mconnect_unavailable"


def test_scripted_discovery_is_cached() -> None:
    client, adapter = _scripted(_signed(_claims()))
    client.authorization_request()
    _exchange(client)
    _exchange(client)
    assert sum(1 for r in adapter.seen if "openid-configuration" in str(r.url)) == 1
