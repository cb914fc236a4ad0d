"""Encryption for what benefits must show again (FSE code, bank account): Fernet
(AES-128-CBC + HMAC-SHA256) with a key from configuration, and a keyed digest for
look-ups by value without decrypting every row."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from cryptography.fernet import Fernet


class SecretBox:
    def __init__(self, key: bytes):
        self.fernet = Fernet(key)
        self.lookup_key = hashlib.sha256(b"lookup:" + key).digest()

    @classmethod
    def from_file(cls, path: str | Path) -> SecretBox:
        return cls(Path(path).read_bytes().strip())

    def seal(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode()

    def open(self, token: str) -> str:
        return self.fernet.decrypt(token.encode()).decode()

    def lookup(self, value: str) -> str:
        return hmac.new(self.lookup_key, value.encode(), hashlib.sha256).hexdigest()


def generate_key_file(path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Fernet.generate_key())
    path.chmod(0o600)


def mask_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return f"{compact[:4]} **** **** {compact[-4:]}" if len(compact) > 8 else "****"



