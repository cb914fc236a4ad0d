"""Password hashing with the production parameters (the other tests run auth with cheap
ones, tests/support.py; `make bench` measures these)."""

from __future__ import annotations

import pytest

from services.auth.hashing import Argon2Parameters, PasswordHashing
from services.auth.service import AuthSettings
from tests.support import suite_overrides


def test_production_parameters_are_the_settings_defaults():
    fields = AuthSettings().fields
    assert (fields["AUTH_ARGON2_TIME_COST"].load_default,
            fields["AUTH_ARGON2_MEMORY_KIB"].load_default,
            fields["AUTH_ARGON2_PARALLELISM"].load_default) == (3, 65536, 4)
    assert Argon2Parameters() == Argon2Parameters(3, 65536, 4)


@pytest.fixture(scope="module")
def production() -> PasswordHashing:
    return PasswordHashing()  # Argon2Parameters' defaults, as auth runs by default


def test_a_password_hashed_with_the_production_parameters_verifies(production):
    stored = production.hash("Azur#718")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert production.verify(stored, "Azur#718")
    assert not production.verify(stored, "Azur#719")
    assert not production.needs_rehash(stored)


def test_the_tests_hash_cheaply_and_a_cheap_hash_is_rehashed_in_production(tmp_path,
                                                                            production):
    env = suite_overrides(tmp_path / "key.pem")
    cheap = Argon2Parameters(int(env["AUTH_ARGON2_TIME_COST"]),
                             int(env["AUTH_ARGON2_MEMORY_KIB"]),
                             int(env["AUTH_ARGON2_PARALLELISM"]))
    assert cheap.time_cost < 3 and cheap.memory_cost_kib < 65536
    stored = PasswordHashing(cheap).hash("Azur#718")
    assert PasswordHashing(cheap).verify(stored, "Azur#718")
    assert production.needs_rehash(stored)
