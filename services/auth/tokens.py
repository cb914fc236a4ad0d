"""Access tokens (EdDSA-signed JWTs that the gateway checks without a round trip)
and opaque refresh tokens stored only as SHA-256 digests."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "memberspace-auth"
MEMBER_AUDIENCE = "member"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    private_key: Ed25519PrivateKey
    kid: str

    @classmethod
    def from_pem_file(cls, path: str | Path) -> SigningKey:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(key, hashlib.sha256(raw).hexdigest()[:16])

    def public_jwk(self) -> dict[str, str]:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": self.kid,
                "alg": "EdDSA", "use": "sig"}


def generate_key_file(path: str | Path) -> None:
    """Write a new Ed25519 key (development and tests)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pem)
    path.chmod(0o600)


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
    return hashlib.sha256(token.encode()).hexdigest()
