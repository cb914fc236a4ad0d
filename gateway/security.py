"""Who is calling: access tokens checked in the gateway, without a round trip.

auth signs access tokens (EdDSA); the gateway fetches auth's public keys once over
RPC and caches them, fetching again only for a key id it has not seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request

from gateway.problems import ApiError

ISSUER = "memberspace-auth"
MEMBER_AUDIENCE = "member"
KEY_REFETCH_INTERVAL = 10.0


@dataclass(frozen=True)
class Principal:
    member_id: str
    session_id: str
    client: str
    password_change_required: bool
    audience: str


class TokenKeys(DependencyProvider):
    """auth's public keys, cached per gateway process."""

    def setup(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetched_at = 0.0

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
            raise ApiError(401, "invalid_token", "The access token is not valid.",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def verify_access_token(token: str, keys: TokenKeys, fetch: Callable[[], dict],
                        audience: str = MEMBER_AUDIENCE) -> Principal:
    invalid = ApiError(401, "invalid_token", "The access token is not valid or has expired.",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise invalid from None
    if header.get("alg") != "EdDSA" or not isinstance(header.get("kid"), str):
        raise invalid
    key = keys.key(header["kid"], fetch)
    try:
        claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=audience,
                            issuer=ISSUER, options={"require": ["exp", "sub", "sid", "aud"]})
    except jwt.PyJWTError:
        raise invalid from None
    return Principal(
        member_id=claims["sub"],
        session_id=claims["sid"],
        client=claims.get("cli", "web"),
        password_change_required=bool(claims.get("pcr")),
        audience=audience,
    )


def require_member(request: Request, keys: TokenKeys, fetch: Callable[[], dict]) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "authentication_required", "Log in to use this route.",
                       headers={"WWW-Authenticate": "Bearer"})
    return verify_access_token(token, keys, fetch)


def enforce_account_state(principal: Principal, allowed_before_password_change: bool) -> None:
    """A session opened with a password the fund gave must personalise it first."""
    if principal.password_change_required and not allowed_before_password_change:
        raise ApiError(403, "password_change_required",
                       "Personalise your password before using your personal space.")
