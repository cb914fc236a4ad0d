"""Who is calling: access tokens checked in the gateway, without a round trip.

auth signs access tokens (EdDSA); the gateway fetches auth's public keys once over
RPC and caches them, fetching again only for a key id it has not seen. Mobile apps
send the token as a bearer; the web app gets it in an HttpOnly cookie and echoes the
session's CSRF token in `X-CSRF-Token` on every state-changing request (double
submit, bound to the session by a digest inside the token). Ended sessions are
refused through the revocation view.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request

from gateway.problems import ApiError
from services.kit.roles import has_role

ISSUER = "memberspace-auth"
MEMBER_AUDIENCE = "member"
AGENT_AUDIENCE = "agent"
KEY_REFETCH_INTERVAL = 10.0
ACCESS_COOKIE = "ms_access"
REFRESH_COOKIE = "ms_refresh"
CSRF_COOKIE = "ms_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    member_id: str  # the subject: a member id, or an agent id for agent tokens
    session_id: str
    client: str
    password_change_required: bool
    audience: str
    roles: tuple[str, ...] = ()
    email_validated: bool = False
    csrf_hash: str | None = field(default=None, compare=False)


class TokenKeys(DependencyProvider):
    """auth's public keys, cached per gateway process."""

    def setup(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetched_at = 0.0
        self.verified = VerifiedTokens()

    def get_dependency(self, worker_ctx: Any) -> TokenKeys:
        return self

    def key(self, kid: str, fetch: Callable[[], dict]) -> Any:
        if kid not in self.keys and time.monotonic() - self.fetched_at > KEY_REFETCH_INTERVAL:
            jwks = fetch()
            self.fetched_at = time.monotonic()
            self.keys = {
                k["kid"]: jwt.PyJWK.from_dict(k).key for k in jwks.get("keys", [])
            }
        try:
            return self.keys[kid]
        except KeyError:
            raise invalid_token() from None


def invalid_token() -> ApiError:
    return ApiError(401, "invalid_token", "The access token is not valid or has expired.",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class VerifiedTokens:
    """Tokens whose signature was checked, until they expire: the signature check is
    the gateway's largest cost per request. Revocation is still checked every time."""

    def __init__(self, size: int = 20000):
        self.size = size
        self.entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self.entries.get(token)
        if entry is None:
            return None
        if entry[0] <= time.time():
            self.entries.pop(token, None)
            return None
        return entry[1]

    def put(self, token: str, expires_at: float, principal: Principal) -> None:
        if len(self.entries) >= self.size:
            now = time.time()
            self.entries = {t: e for t, e in self.entries.items() if e[0] > now}
            if len(self.entries) >= self.size:
                self.entries.clear()
        self.entries[token] = (expires_at, principal)


def verify_access_token(token: str, keys: TokenKeys, fetch: Callable[[], dict],
                        audience: str | list[str] = MEMBER_AUDIENCE) -> Principal:
    cached = keys.verified.get(token)
    if cached is not None:
        allowed = [audience] if isinstance(audience, str) else audience
        if cached.audience not in allowed:
            raise invalid_token()
        return cached
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise invalid_token() from None
    if header.get("alg") != "EdDSA" or not isinstance(header.get("kid"), str):
        raise invalid_token()
    key = keys.key(header["kid"], fetch)
    try:
        claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=audience,
                            issuer=ISSUER, options={"require": ["exp", "sub", "sid", "aud"]})
    except jwt.PyJWTError:
        raise invalid_token() from None
    principal = Principal(
        member_id=claims["sub"],
        session_id=claims["sid"],
        client=claims.get("cli", "web"),
        password_change_required=bool(claims.get("pcr")),
        audience=claims["aud"],
        roles=tuple(claims.get("roles", ())),
        email_validated=bool(claims.get("ev")),
        csrf_hash=claims.get("csh"),
    )
    keys.verified.put(token, float(claims["exp"]), principal)
    return principal


def digest(value: str | bytes) -> str:
    return hashlib.sha256(value if isinstance(value, bytes) else value.encode()).hexdigest()


def check_csrf(request: Request, expected_hash: str | None) -> None:
    """Double submit: header equals the readable cookie and belongs to the session."""
    # bytes: compare_digest refuses str with non-ASCII characters (a header decoded as
    # latin-1, an odd cookie) with a TypeError
    header = request.headers.get(CSRF_HEADER, "").encode("utf-8", "surrogateescape")
    cookie = request.cookies.get(CSRF_COOKIE, "").encode("utf-8", "surrogateescape")
    if not header or not cookie or not secrets.compare_digest(header, cookie) or (
            expected_hash is not None
            and not secrets.compare_digest(digest(header), expected_hash)):
        raise ApiError(403, "csrf_invalid",
                       f"Send the session's CSRF token in the {CSRF_HEADER} header.")


def authenticate(request: Request, keys: TokenKeys, fetch: Callable[[], dict],
                 revocations: Any, audience: str) -> Principal:
    token = bearer_token(request)
    via_cookie = False
    if token is None:
        token = request.cookies.get(ACCESS_COOKIE) or None
        via_cookie = token is not None
    if token is None:
        raise ApiError(401, "authentication_required", "Log in to use this route.",
                       headers={"WWW-Authenticate": "Bearer"})
    principal = verify_access_token(token, keys, fetch, [MEMBER_AUDIENCE, AGENT_AUDIENCE])
    if principal.audience != audience:
        raise ApiError(403, "wrong_audience",
                       "This route is for the fund's agents." if audience == AGENT_AUDIENCE
                       else "This route is for members.")
    if not revocations.loaded:
        raise ApiError(503, "service_unavailable", "The gateway is starting; retry shortly.",
                       headers={"Retry-After": "1"})
    if revocations.is_ended(principal.session_id):
        raise ApiError(401, "session_ended", "The session has ended; log in again.",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if via_cookie and request.method not in SAFE_METHODS:
        check_csrf(request, principal.csrf_hash)
    return principal


def enforce_account_state(principal: Principal, allowed_before_password_change: bool,
                          allowed_without_email: bool = True,
                          email_validated: bool | None = None) -> None:
    """First the password the fund gave must be personalised, then the member needs a
    validated e-mail address (`email_validated`: the gateway's latest knowledge, else
    the token's)."""
    if principal.password_change_required and not allowed_before_password_change:
        raise ApiError(403, "password_change_required",
                       "Personalise your password before using your personal space.")
    validated = principal.email_validated if email_validated is None else email_validated
    if not validated and not allowed_without_email:
        raise ApiError(403, "email_not_validated",
                       "Register and validate your e-mail address to use your personal "
                       "space.")


def enforce_role(principal: Principal, role: str | None) -> None:
    """Agent routes: the agent's token must carry the route's role (a supervisor has
    every agent's role too)."""
    if role is not None and not has_role(principal.roles, role):
        raise ApiError(403, "role_required", f"This route needs the {role!r} role.",
                       role=role)
