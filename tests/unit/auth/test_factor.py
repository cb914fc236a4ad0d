"""The agents' second factor: codes per time step, no reuse, recovery codes, sealing."""

import base64
import datetime as dt

import pyotp
import pytest

from services.auth import factor
from services.auth.agent_login import MAX_DELAY_SECONDS, delay_after

SECRET = "JBSWY3DPEHPK3PXP"
AT = dt.datetime(2026, 12, 1, 12, 0, 10, tzinfo=dt.UTC)


def code_at(at: dt.datetime) -> str:
    return pyotp.TOTP(SECRET).at(at)


def test_the_current_code_is_accepted_once_per_step():
    step = factor.accepted_step(SECRET, code_at(AT), None, AT)
    assert step == factor.current_step(AT)
    # the same code again (its step already used) is refused
    assert factor.accepted_step(SECRET, code_at(AT), step, AT) is None


def test_one_step_of_drift_either_side_and_no_more():
    for seconds, ok in ((-30, True), (30, True), (-60, False), (60, False)):
        code = code_at(AT + dt.timedelta(seconds=seconds))
        assert (factor.accepted_step(SECRET, code, None, AT) is not None) is ok, seconds


def test_an_older_code_after_a_newer_one_is_refused():
    newer = factor.accepted_step(SECRET, code_at(AT + dt.timedelta(seconds=30)), None, AT)
    assert factor.accepted_step(SECRET, code_at(AT), newer, AT) is None


@pytest.mark.parametrize("code", [None, "", "12345", "1234567", "abcdef", 123456, " 123456"])
def test_malformed_codes_are_refused(code):
    assert factor.accepted_step(SECRET, code, None, AT) is None


def test_wrong_secret_codes_are_refused():
    other = pyotp.random_base32()
    assert factor.accepted_step(other, code_at(AT), None, AT) is None


def test_otpauth_uri_and_qr_code():
    uri = factor.otpauth_uri(SECRET, "clerk")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == SECRET and parsed.name == "clerk"
    assert parsed.issuer == factor.ISSUER
    png = base64.b64decode(factor.qr_png_base64(uri))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_recovery_codes_are_ten_distinct_and_digested_loosely():
    codes = factor.new_recovery_codes()
    assert len(set(codes)) == 10
    assert all(factor.is_recovery_code(c) and len(c) == 11 for c in codes)
    code = codes[0]
    assert factor.recovery_digest(code) == factor.recovery_digest(code.upper().replace("-", ""))
    assert factor.recovery_digest(code) != factor.recovery_digest(codes[1])
    assert not factor.is_code(code) and not factor.is_recovery_code("123456")


def test_secrets_are_sealed_under_the_factor_key(tmp_path):
    path = tmp_path / "factor.key"
    factor.generate_key_file(path)
    box = factor.FactorBox.from_file(path)
    sealed = box.seal(SECRET)
    assert SECRET not in sealed and box.open(sealed) == SECRET
    other = tmp_path / "other.key"
    factor.generate_key_file(other)
    assert factor.FactorBox.from_file(other).open(sealed) is None


def test_failed_logins_wait_growing_delays_with_a_ceiling():
    delays = [delay_after(n) for n in range(1, 20)]
    assert delays[:2] == [0, 0]  # a typo or two costs nothing
    assert delays[2:6] == [1, 2, 4, 8]
    assert max(delays) == MAX_DELAY_SECONDS == delays[-1]
    assert delays == sorted(delays)
