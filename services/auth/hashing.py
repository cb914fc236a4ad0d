"""argon2id password hashing, off the event loop, with a constant number of checks."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.kit.offload import off_loop


@dataclass(frozen=True)
class Argon2Parameters:
    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


def _normalize(password: str) -> str:
    # The rules count characters after NFC; hash the same form so both agree.
    return unicodedata.normalize("NFC", password)


class PasswordHashing:
    """Hashes and verifies; a dummy hash stands in for missing accounts."""

    def __init__(self, params: Argon2Parameters = Argon2Parameters()):
        self.params = params
        self.hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost_kib,
            parallelism=params.parallelism,
        )
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return off_loop(self.hasher.hash, _normalize(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; a missing hash costs one check all the same."""
        target = stored_hash or self.dummy_hash
        try:
            ok = off_loop(self.hasher.verify, target, _normalize(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return bool(ok) and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)
