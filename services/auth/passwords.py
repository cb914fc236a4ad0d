"""Password rules of the member portal (and a stricter variant for fund staff).

``check_password`` reports every rule a password breaks, each with a stable code, so
the API can answer with a single 422 listing all of them. Details never echo the
password or the member's personal data.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass

from services.auth.identifiers import registration_number_forms

ABSOLUTE_MAX_LENGTH = 128
COMMON_PASSWORDS_COUNT = 10_000
RUN_LENGTH = 5  # consecutive characters / keyboard keys that make a password too simple
MIN_DISTINCT_CHARACTERS = 3
MIN_FACT_LENGTH = 3  # shorter names / usernames are not looked for
MIN_NUMBER_LENGTH = 4  # shorter registration number forms are not looked for

_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz")
_KEYBOARD_ROWS = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",  # QWERTY
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",  # AZERTY
    "qwertzuiop",
    "yxcvbnm",  # QWERTZ
)
_NAME_SEPARATORS = re.compile(r"[\s\-'\u2019\u2018\u02bc.]+")


@dataclass(frozen=True)
class PasswordViolation:
    """One broken rule: a stable ``code`` and an English sentence for the member."""

    code: str
    detail: str


@dataclass(frozen=True)
class PersonalFacts:
    """What we know about the account holder, to reject obvious passwords."""

    first_name: str = ""
    last_name: str = ""
    registration_numbers: tuple[str, ...] = ()
    birth_date: datetime.date | None = None
    username: str = ""  # agents' login name


@dataclass(frozen=True)
class PasswordPolicy:
    """Length bounds (``max_length=None``: up to ABSOLUTE_MAX_LENGTH) and simplicity check."""

    min_length: int
    max_length: int | None
    check_simplicity: bool

    def __post_init__(self) -> None:
        if self.min_length < 1 or (
            self.max_length is not None and self.max_length < self.min_length
        ):
            raise ValueError("invalid password length bounds")


MEMBER_POLICY = PasswordPolicy(7, 8, True)
AGENT_POLICY = PasswordPolicy(12, None, True)  # fund staff


def _ngrams(rows: tuple[str, ...]) -> frozenset[str]:
    runs = {
        row[i : i + RUN_LENGTH]
        for base in rows
        for row in (base, base[::-1])
        for i in range(len(row) - RUN_LENGTH + 1)
    }
    return frozenset(runs)


_SEQUENCE_RUNS = _ngrams(_SEQUENCES)
_KEYBOARD_RUNS = _ngrams(_KEYBOARD_ROWS)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The most common passwords, from the list shipped with zxcvbn (lower case)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_COUNT])


def _fold(text: str) -> str:
    """Case-fold and strip accents ("Élodie" -> "elodie")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _contains_run(text: str, runs: frozenset[str]) -> bool:
    return any(text[i : i + RUN_LENGTH] in runs for i in range(len(text) - RUN_LENGTH + 1))


def _join(reasons: list[str]) -> str:
    return reasons[0] if len(reasons) == 1 else ", ".join(reasons[:-1]) + " and " + reasons[-1]


def _length_detail(low: int, high: int) -> str:
    if high == low:
        return f"Your password must be exactly {low} characters long."
    if high == low + 1:
        return f"Your password must be {low} or {high} characters long."
    return f"Your password must be between {low} and {high} characters long."


def _simplicity_reasons(password: str) -> list[str]:
    lowered = password.lower()
    reasons = []
    if lowered in common_passwords() or _alnum(lowered) in common_passwords():
        reasons.append("it is a commonly used password")
    if _contains_run(lowered, _SEQUENCE_RUNS):
        reasons.append(f"it contains {RUN_LENGTH} or more consecutive letters or digits")
    if _contains_run(lowered, _KEYBOARD_RUNS):
        reasons.append(f"it contains {RUN_LENGTH} or more neighbouring keys of a keyboard row")
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        reasons.append(f"it uses fewer than {MIN_DISTINCT_CHARACTERS} different characters")
    return reasons


def _name_forms(name: str) -> set[str]:
    folded = _fold(name).strip()
    parts = [p for p in _NAME_SEPARATORS.split(folded) if p]
    forms = {folded, "".join(parts), *parts}
    return {f for f in forms if len(_alnum(f)) >= MIN_FACT_LENGTH}


def birth_date_forms(birth_date: datetime.date) -> set[str]:
    """The usual ways of writing ``birth_date`` (plus the year alone and DDMM)."""
    d, m, y = f"{birth_date.day:02d}", f"{birth_date.month:02d}", f"{birth_date.year:04d}"
    yy = y[2:]
    return {
        d + m + y,
        d + m + yy,
        y + m + d,
        m + d + y,
        yy + m + d,
        f"{d}/{m}/{y}",
        f"{d}-{m}-{y}",
        f"{d}.{m}.{y}",
        f"{d}/{m}/{yy}",
        f"{y}-{m}-{d}",
        y,
        d + m,
    }


def _obvious_reasons(password: str, facts: PersonalFacts) -> list[str]:
    folded = _fold(password)
    texts = (folded, _alnum(folded))

    def found(forms: set[str]) -> bool:
        return any(form in text for form in forms for text in texts)

    numbers = {
        form
        for number in facts.registration_numbers
        for form in registration_number_forms(number.strip())
        if len(form) >= MIN_NUMBER_LENGTH
    }
    username = _fold(facts.username).strip()
    usernames = {u for u in (username, _alnum(username)) if len(u) >= MIN_FACT_LENGTH}
    checks = (
        ("your first name", _name_forms(facts.first_name)),
        ("your last name", _name_forms(facts.last_name)),
        ("your registration number", numbers),
        ("your date of birth", birth_date_forms(facts.birth_date) if facts.birth_date else set()),
        ("your username", usernames),
    )
    return [label for label, forms in checks if found(forms)]


def check_password(
    password: str,
    facts: PersonalFacts | None = None,
    policy: PasswordPolicy = MEMBER_POLICY,
) -> list[PasswordViolation]:
    """Return every rule ``password`` breaks (an empty list means it is acceptable)."""
    if not isinstance(password, str):
        raise TypeError("password must be a string")
    violations = []
    if not all(c.isprintable() for c in password):
        violations.append(
            PasswordViolation(
                "password_invalid_characters",
                "Your password contains invisible or control characters; "
                "use only letters, digits, spaces and punctuation.",
            )
        )
    high = min(policy.max_length or ABSOLUTE_MAX_LENGTH, ABSOLUTE_MAX_LENGTH)
    if not policy.min_length <= len(unicodedata.normalize("NFC", password)) <= high:
        violations.append(
            PasswordViolation("password_length", _length_detail(policy.min_length, high))
        )
    if re.search(r"(.)\1\1", password, re.DOTALL):
        violations.append(
            PasswordViolation(
                "password_repeated_characters",
                "Your password cannot contain the same character three times in a row.",
            )
        )
    if policy.check_simplicity and (reasons := _simplicity_reasons(password)):
        violations.append(
            PasswordViolation(
                "password_too_simple", f"Your password is too simple: {_join(reasons)}."
            )
        )
    if facts is not None and (reasons := _obvious_reasons(password, facts)):
        violations.append(
            PasswordViolation(
                "password_obvious",
                f"Your password is too easy to guess: it contains {_join(reasons)}.",
            )
        )
    return violations
