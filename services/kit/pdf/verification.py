"""The verification code printed on every issued document (and in its QR code's URL).
Its shape is public vocabulary, defined in `services.contracts.verification`; the kit's
PDF helpers use it from there."""

from services.contracts.verification import (
    VERIFICATION_ALPHABET,
    VERIFICATION_PATH,
    build_verification_url,
    new_verification_code,
    normalize_verification_code,
)

__all__ = [
    "VERIFICATION_ALPHABET",
    "VERIFICATION_PATH",
    "build_verification_url",
    "new_verification_code",
    "normalize_verification_code",
]
