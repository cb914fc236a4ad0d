"""Each service's dependency set stays derived from the lock and holds what it imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from deploy import dependency_sets as sets

ROOT = Path(__file__).resolve().parents[2]


def committed(service: str) -> dict[str, str]:
    lines = (sets.OUT / f"{service}.txt").read_text().splitlines()
    return {canonicalize_name(line.partition("==")[0]): line
            for line in lines if line and not line.startswith("#")}


def test_the_committed_sets_are_what_the_lock_and_the_code_give_today():
    assert sets.main(["--check"]) == 0, "run `make requirements`"


@pytest.mark.parametrize("service", sorted(sets.SERVICES))
def test_every_pin_is_the_locks_and_no_test_tool_is_in(service):
    pins = sets.lock_pins()
    found = committed(service)
    assert found, service
    for name, line in found.items():
        assert pins[name] == line, f"{service}: {line} differs from the lock"
    assert not set(found) & {canonicalize_name(n) for n in sets.FORBIDDEN}


@pytest.mark.parametrize("service", sorted(sets.SERVICES))
def test_every_library_the_service_imports_is_in_its_set(service):
    _, third = sets.reached(sets.SERVICES[service], [])
    providers = sets.metadata.packages_distributions()
    found = committed(service)
    for top in third - set(sets.MODULE_NEEDS):
        assert {canonicalize_name(d) for d in providers[top]} & set(found), (service, top)


def test_sets_differ_by_what_each_service_uses():
    assert "argon2-cffi" in committed("auth") and "zxcvbn" in committed("auth")
    assert "argon2-cffi" not in committed("documents")
    assert "jinja2" in committed("notifications")
    assert "boto3" not in committed("notifications")  # it stores nothing in S3
    assert "redis" in committed("gateway")
    assert "alembic" not in committed("gateway")      # no database, no migrations
    assert "cryptography" in committed("gateway")     # PyJWT[crypto]: EdDSA tokens
    for service in sets.SERVICES:
        assert {"nameko", "setuptools", "tzdata", "psycopg2-binary"} <= set(committed(service))


def test_the_gateway_has_no_pdf_library_and_no_service_package():
    assert "reportlab" not in committed("gateway")
    seen, _ = sets.reached(sets.SERVICES["gateway"], [])
    assert {m.split(".")[1] for m in seen if m.startswith("services.")} <= {"kit", "contracts"}


def test_a_service_importing_a_new_library_makes_its_set_stale(tmp_path, monkeypatch):
    module = tmp_path / "probe_mod.py"
    module.write_text("import zxcvbn\nimport jinja2\n")
    monkeypatch.setitem(sets.SERVICES, "probe", ["probe_mod"])
    monkeypatch.setattr(sets, "ROOT", tmp_path)
    monkeypatch.setattr(sets, "FIRST_PARTY", {"probe_mod"})
    monkeypatch.setattr(sets, "lock_extras", lambda: {})
    lines = sets.service_set("probe")
    assert [line.split("==")[0] for line in lines] == ["Jinja2", "MarkupSafe", "zxcvbn"]
