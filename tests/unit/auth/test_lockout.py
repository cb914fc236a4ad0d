"""Lockout keys: a new password must clear every counter a login of the person can lock."""

import datetime
from types import SimpleNamespace

import pytest

from services.auth import sessions
from services.auth.identifiers import parse_identifier, registration_number_forms

BIRTH = datetime.date(1950, 1, 1)
DOB = f"{BIRTH:%d%m%Y}"
NUMBERS = ["1234", "12345", "712345", "123456", "000123", "70000"]


@pytest.mark.parametrize("number", NUMBERS)
def test_person_keys_cover_every_key_a_login_of_theirs_can_lock(number):
    cleared = set(sessions.person_lockout_keys([number], BIRTH))
    for form in registration_number_forms(number):
        typed = parse_identifier(f"{form}-{DOB}", today=datetime.date(2026, 1, 15))
        assert set(sessions.lockout_keys(typed)) <= cleared


def test_five_digit_employee_number_also_clears_its_self_employed_twin():
    # typing 12345-… counts on 12345-… and 712345-…: a reset must clear both
    assert sessions.person_lockout_keys(["12345"], BIRTH) == [f"12345-{DOB}", f"712345-{DOB}"]


def test_self_employed_number_clears_the_full_and_the_short_form():
    assert sessions.person_lockout_keys(["712345"], BIRTH) == [f"712345-{DOB}", f"12345-{DOB}"]


def test_clear_person_lock_clears_the_keys_of_every_subscription(monkeypatch):
    cleared: list[str] = []
    monkeypatch.setattr(sessions, "clear_failures", lambda tx, keys: cleared.extend(keys))
    person = SimpleNamespace(birth_date=BIRTH, subscriptions=[
        SimpleNamespace(registration_number="12345"),
        SimpleNamespace(registration_number="481920")])
    sessions.clear_person_lock(SimpleNamespace(), person)
    assert sorted(cleared) == sorted([f"12345-{DOB}", f"712345-{DOB}", f"481920-{DOB}"])
