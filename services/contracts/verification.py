"""A certificate's verification code: `XXXX-XXXX-XXXX` over an alphabet without 0/O/1/I,
checked by anyone at `VERIFICATION_PATH<code>` (the QR code of every certificate)."""

from __future__ import annotations

import re
import secrets

VERIFICATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I
VERIFICATION_PATH = "/api/v1/certificates/verify/"
CODE_LENGTH = 12  # characters of the alphabet: 60 bits
GROUP_SIZE = 4
VERIFICATION_CODE_PATTERN = r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$"

_ALPHABET_SET = frozenset(VERIFICATION_ALPHABET)
_SEPARATORS_RE = re.compile(r"[\s\-]+")


def _group(code: str) -> str:
    return "-".join(code[i : i + GROUP_SIZE] for i in range(0, len(code), GROUP_SIZE))


def new_verification_code() -> str:
    """Return a new random verification code, e.g. ``"7KQM-2XHD-9PRT"`` (60 bits)."""
    raw = "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(CODE_LENGTH))
    return _group(raw)


def normalize_verification_code(raw: str) -> str | None:
    """Return the canonical ``XXXX-XXXX-XXXX`` form of user input, or ``None`` if invalid.

    Case-insensitive; spaces and hyphens are ignored wherever they are. Any character
    outside :data:`VERIFICATION_ALPHABET` (including 0, O, 1, I) makes it invalid.
    """
    if not isinstance(raw, str) or len(raw) > 64 or not raw.isascii():
        return None
    compact = _SEPARATORS_RE.sub("", raw).upper()
    if len(compact) != CODE_LENGTH or not set(compact) <= _ALPHABET_SET:
        return None
    return _group(compact)


def build_verification_url(public_base_url: str, code: str) -> str:
    """Return ``<public_base_url>/api/v1/certificates/verify/<code>`` (the QR code payload)."""
    return public_base_url.rstrip("/") + VERIFICATION_PATH + code
