"""OpenID Connect client for MConnect, Monaco's digital identity.

Authorization code flow with PKCE (S256), state and nonce, and a strict check of
the ID token. No nameko and no database here: the caller keeps state, nonce and
code verifier between `MConnectClient.authorization_request` and
`MConnectClient.exchange`. Tokens and codes are never logged nor put in errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import jwt
import requests

log = logging.getLogger(__name__)

METADATA_TTL = 600.0
CLOCK_LEEWAY = 60
# Asymmetric algorithms only: never "none" nor HS* (the client secret is no key).
SAFE_ALGORITHMS = frozenset({"RS256", "ES256", "PS256", "EdDSA"})

ErrorCode = Literal["mconnect_unavailable", "mconnect_rejected"]


@dataclass(frozen=True)
class MConnectConfig:
    """Where the provider is and who we are to it."""

    discovery_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    registration_claim: str
    scopes: str = "openid profile"
    http_timeout: float = 5.0

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return (f"MConnectConfig(discovery_url={self.discovery_url!r}, "
                f"client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})")


@dataclass(frozen=True)
class AuthorizationRequest:
    """A login to start: send the browser to `url`, keep the rest server-side."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who MConnect says the user is, from a verified ID token (and userinfo)."""

    issuer: str
    subject: str
    registration_number: str | None
    claims: dict[str, Any]


class MConnectError(Exception):
    """The login could not be completed; `detail` is safe to show or log."""

    def __init__(self, code: ErrorCode, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code: ErrorCode = code
        self.detail = detail


def _unavailable(detail: str) -> MConnectError:
    return MConnectError("mconnect_unavailable", detail)


def _rejected(detail: str) -> MConnectError:
    return MConnectError("mconnect_rejected", detail)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def code_challenge(code_verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 §4.2)."""
    return _b64url(hashlib.sha256(code_verifier.encode("ascii")).digest())


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _claim_text(value: Any) -> str | None:
    """A registration number as text, or None if absent, empty or not scalar."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


class MConnectClient:
    """Talks to MConnect: discovery, authorization URL, code exchange."""

    def __init__(self, config: MConnectConfig, session: requests.Session | None = None):
        self.config = config
        self.http = session or requests.Session()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: list[tuple[str | None, jwt.PyJWK, str | None]] = []
        self._keys_uri: str | None = None

    # -- HTTP ---------------------------------------------------------------

    def _json(self, what: str, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        """Send a request; (status, JSON body). Transport trouble, 5xx and
        non-JSON answers are `mconnect_unavailable`."""
        try:
            resp = self.http.request(method, url, timeout=self.config.http_timeout, **kwargs)
        except requests.RequestException as exc:
            log.warning("mconnect %s: %s", what, type(exc).__name__)
            raise _unavailable(f"the identity provider did not answer ({what})") from None
        if resp.status_code >= 500:
            log.warning("mconnect %s: HTTP %s", what, resp.status_code)
            raise _unavailable(f"the identity provider failed ({what}, HTTP {resp.status_code})")
        try:
            body = resp.json()
        except ValueError:
            log.warning("mconnect %s: HTTP %s, not JSON", what, resp.status_code)
            raise _unavailable(f"the identity provider gave no JSON ({what})") from None
        return resp.status_code, body

    # -- discovery ----------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, cached for `METADATA_TTL` seconds."""
        now = time.monotonic()
        if self._metadata is not None and now - self._metadata_at < METADATA_TTL:
            return self._metadata
        status, doc = self._json("discovery", "GET", self.config.discovery_url)
        if status != 200 or not isinstance(doc, dict):
            raise _unavailable(f"the identity provider's discovery failed (HTTP {status})")
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise _unavailable(f"the identity provider's discovery lacks {key}")
        # OIDC Discovery §4.3: the issuer is the discovery URL's prefix.
        expected = doc["issuer"].rstrip("/") + "/.well-known/openid-configuration"
        if expected != self.config.discovery_url:
            raise _unavailable("the identity provider's issuer does not match its discovery URL")
        self._metadata, self._metadata_at = doc, now
        return doc

    def _algorithms(self, meta: dict[str, Any]) -> set[str]:
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        allowed = SAFE_ALGORITHMS.intersection(offered) if isinstance(offered, list) else set()
        if not allowed:
            raise _unavailable("the identity provider offers no safe ID token algorithm")
        return allowed

    def _auth_method(self, meta: dict[str, Any]) -> str:
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            return "client_secret_basic"
        if "client_secret_post" in methods:
            return "client_secret_post"
        raise _unavailable("the identity provider supports no client secret authentication")

    # -- keys ---------------------------------------------------------------

    def _fetch_keys(self, jwks_uri: str) -> None:
        status, doc = self._json("keys", "GET", jwks_uri)
        if status != 200 or not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise _unavailable(f"the identity provider's keys could not be read (HTTP {status})")
        keys: list[tuple[str | None, jwt.PyJWK, str | None]] = []
        for entry in doc["keys"]:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK.from_dict(entry)
            except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                continue  # a key type we cannot use; others may do
            kid = entry.get("kid")
            keys.append((kid if isinstance(kid, str) else None, key, entry.get("alg")))
        self._keys, self._keys_uri = keys, jwks_uri

    def _signing_key(self, jwks_uri: str, kid: str | None) -> tuple[jwt.PyJWK, str | None]:
        """The key for `kid` and the algorithm it is pinned to, if any; the key
        set is refetched once if `kid` is unknown."""
        fresh = self._keys_uri != jwks_uri
        if fresh:
            self._fetch_keys(jwks_uri)
        found = self._lookup(kid)
        if found is None and not fresh:  # maybe the provider rotated its keys
            self._fetch_keys(jwks_uri)
            found = self._lookup(kid)
        if found is not None:
            return found
        raise _rejected("the ID token is signed with an unknown key")

    def _lookup(self, kid: str | None) -> tuple[jwt.PyJWK, str | None] | None:
        if kid is None:  # without a kid, only an unambiguous key set will do
            return self._keys[0][1:] if len(self._keys) == 1 else None
        return next((entry[1:] for entry in self._keys if entry[0] == kid), None)

    # -- flow ---------------------------------------------------------------

    def authorization_request(self) -> AuthorizationRequest:
        """A fresh authorization URL with state, nonce and an S256 PKCE challenge."""
        meta = self.metadata()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters
        url = _with_query(meta["authorization_endpoint"], {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "scope": self.config.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        })
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def exchange(self, code: str, code_verifier: str, nonce: str) -> VerifiedIdentity:
        """Redeem `code`, verify the ID token and return who logged in."""
        if not code or not code_verifier or not nonce:
            raise _rejected("the login answer is incomplete")
        meta = self.metadata()
        self._algorithms(meta)  # a provider we cannot verify must not consume the code
        tokens = self._redeem(meta, code, code_verifier)
        claims = self._verify_id_token(meta, tokens["id_token"], nonce)
        registration = _claim_text(claims.get(self.config.registration_claim))
        merged = dict(claims)
        access_token = tokens.get("access_token")
        if registration is None and meta.get("userinfo_endpoint") and isinstance(access_token, str):
            info = self._userinfo(meta["userinfo_endpoint"], access_token, claims["sub"])
            merged = {**info, **claims}
            registration = _claim_text(info.get(self.config.registration_claim))
        return VerifiedIdentity(issuer=claims["iss"], subject=claims["sub"],
                                registration_number=registration, claims=merged)

    def _redeem(self, meta: dict[str, Any], code: str, code_verifier: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        if self._auth_method(meta) == "client_secret_basic":
            # RFC 6749 §2.3.1: both parts are form-encoded before Base64.
            pair = f"{quote_plus(self.config.client_id)}:{quote_plus(self.config.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form["client_id"] = self.config.client_id
            form["client_secret"] = self.config.client_secret
        status, body = self._json("token", "POST", meta["token_endpoint"], data=form,
                                  headers=headers, allow_redirects=False)
        if not isinstance(body, dict):
            raise _rejected(f"the identity provider refused the code (HTTP {status})")
        if status != 200:
            error = body.get("error")
            if not isinstance(error, str) or not re.fullmatch(r"[a-z_]{1,64}", error):
                error = "unknown error"
            log.info("mconnect token endpoint refused the code: HTTP %s %s", status, error)
            raise _rejected(f"the identity provider refused the code ({error})")
        if str(body.get("token_type", "")).lower() != "bearer":
            raise _rejected("the identity provider returned an unexpected token type")
        if not isinstance(body.get("id_token"), str):
            raise _rejected("the identity provider returned no ID token")
        return body

    def _verify_id_token(self, meta: dict[str, Any], id_token: str,
                         nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise _rejected("the ID token is malformed") from None
        alg = header.get("alg")
        if alg not in self._algorithms(meta):
            raise _rejected("the ID token is signed with a refused algorithm")
        kid = header.get("kid")
        key, pinned = self._signing_key(meta["jwks_uri"], kid if isinstance(kid, str) else None)
        if pinned is not None and pinned != alg:
            raise _rejected("the ID token's algorithm does not match its key")
        try:
            claims = jwt.decode(
                id_token, key.key, algorithms=[alg], audience=self.config.client_id,
                issuer=meta["issuer"], leeway=CLOCK_LEEWAY,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise _rejected("the ID token has expired") from None
        except jwt.InvalidAudienceError:
            raise _rejected("the ID token is not meant for this client") from None
        except jwt.InvalidIssuerError:
            raise _rejected("the ID token comes from another issuer") from None
        except jwt.InvalidSignatureError:
            raise _rejected("the ID token's signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise _rejected(f"the ID token is invalid ({type(exc).__name__})") from None
        aud = claims["aud"]
        azp = claims.get("azp")
        if isinstance(aud, list) and len(aud) > 1 and azp is None:
            raise _rejected("the ID token has several audiences and no authorized party")
        if azp is not None and azp != self.config.client_id:
            raise _rejected("the ID token is meant for another authorized party")
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
            raise _rejected("the ID token's nonce does not match this login")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise _rejected("the ID token has no subject")
        return claims

    def _userinfo(self, url: str, access_token: str, subject: str) -> dict[str, Any]:
        status, body = self._json("userinfo", "GET", url, allow_redirects=False,
                                  headers={"Authorization": f"Bearer {access_token}",
                                           "Accept": "application/json"})
        if status != 200 or not isinstance(body, dict):
            raise _rejected(f"the identity provider refused the user info (HTTP {status})")
        # OIDC Core §5.3.2: userinfo about someone else must not be used.
        if body.get("sub") != subject:
            raise _rejected("the user info is about another subject")
        return body


__all__ = [
    "AuthorizationRequest",
    "MConnectClient",
    "MConnectConfig",
    "MConnectError",
    "VerifiedIdentity",
    "code_challenge",
]
