"""The agents' second factor: TOTP (RFC 6238) secrets sealed under auth's own key,
codes checked once per time step, and single-use recovery codes.

A code is accepted for the current 30-second step or one step either side (clock
drift), and only for a step later than the last one accepted: a code seen once (over
a shoulder, in a proxy's log) cannot open a second session.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import secrets
from pathlib import Path

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken

ISSUER = "Member Space (staff)"
DIGITS = 6
INTERVAL = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# the secret the demo agent is enrolled with under `make run` (documented, so never
# accepted unless AUTH_DEVELOPMENT_FACTOR is on)
DEVELOPMENT_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105
_CODE = re.compile(r"^[0-9]{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY = re.compile(r"^[a-z0-9]{5}-?[a-z0-9]{5}$")


class FactorBox:
    """Seals TOTP secrets (Fernet: AES-128-CBC + HMAC-SHA256) under auth's factor key,
    which is not the token signing key and lives in its own file."""

    def __init__(self, key: bytes):
        self.fernet = Fernet(key)

    @classmethod
    def from_file(cls, path: str | Path) -> FactorBox:
        return cls(Path(path).read_bytes().strip())

    def seal(self, secret: str) -> str:
        return self.fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self.fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def generate_key_file(path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Fernet.generate_key())
    path.chmod(0o600)


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits (RFC 4226's recommended length)


def otpauth_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=username, issuer_name=ISSUER)


def qr_png_base64(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=6, border=4)
    return base64.b64encode(out.getvalue()).decode()


def current_step(at: dt.datetime | None = None) -> int:
    at = at or dt.datetime.now(dt.UTC)
    return int(at.timestamp()) // INTERVAL


def code_for(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).generate_otp(step)


def is_code(value: object) -> bool:
    return isinstance(value, str) and bool(_CODE.match(value))


def matching_step(secret: str, code: object, at: dt.datetime | None = None) -> int | None:
    """The time step (now, or one either side) whose code `code` is."""
    if not is_code(code):
        return None
    now = current_step(at)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        # every candidate compared (constant time), not stopping at the first match
        if secrets.compare_digest(code_for(secret, step), code):  # type: ignore[arg-type]
            found = step
    return found


def accepted_step(secret: str, code: object, last_step: int | None,
                  at: dt.datetime | None = None) -> int | None:
    """The time step `code` belongs to, if it is valid now and newer than `last_step`."""
    found = matching_step(secret, code, at)
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


# -- recovery codes ---------------------------------------------------------------------

def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Ten codes of 50 random bits each, shown once, as `xxxxx-xxxxx`."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def is_recovery_code(value: object) -> bool:
    return isinstance(value, str) and bool(_RECOVERY.match(value.strip().lower()))


def recovery_digest(code: str) -> str:
    """Stored digest: the codes are random (50 bits), so a fast hash suffices."""
    normal = code.strip().lower().replace("-", "")
    return hashlib.sha256(b"recovery:" + normal.encode()).hexdigest()
