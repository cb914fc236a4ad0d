"""Access tokens (EdDSA-signed JWTs that the gateway checks without a round trip)
and opaque refresh tokens stored only as SHA-256 digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

import jwt

from services.kit.keys import SigningKey, generate_key_file

__all__ = ["SigningKey", "digest", "generate_key_file", "issue_access_token",
           "new_refresh_token"]

ISSUER = "memberspace-auth"
MEMBER_AUDIENCE = "member"


def issue_access_token(key: SigningKey, *, subject: str, session_id: str, client: str,
                       audience: str, ttl: int, claims: dict[str, Any] | None = None,
                       now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    payload = {
        "iss": ISSUER,
        "aud": audience,
        "sub": subject,
        "sid": session_id,
        "cli": client,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl,
        "jti": uuid.uuid4().hex,
        **(claims or {}),
    }
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def new_refresh_token() -> tuple[str, str]:
    """A refresh token and the digest to store for it."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """SHA-256 of a token. A lone surrogate (JSON can carry one) is hashed, not an
    error: it is then just an unknown token. Callers turn a non-string away first."""
    if not isinstance(token, str):
        raise TypeError(f"a token is a string, not {type(token).__name__}")
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
