import datetime as dt

import jwt
import pytest

from gateway.problems import ApiError
from gateway.security import Principal, TokenKeys, enforce_account_state, verify_access_token
from services.auth.tokens import SigningKey, generate_key_file, issue_access_token


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "k.pem"
    generate_key_file(path)
    return SigningKey.from_pem_file(path)


@pytest.fixture
def keys(key):
    store = TokenKeys()
    store.setup()
    return store, (lambda: {"keys": [key.public_jwk()]})


def token(key, **kw):
    args = {"subject": "m1", "session_id": "s1", "client": "mobile", "audience": "member",
            "ttl": 300, "claims": {"pcr": False}}
    args.update(kw)
    return issue_access_token(key, **args)


def test_valid_token_gives_the_principal(key, keys):
    principal = verify_access_token(token(key), *keys)
    assert principal == Principal("m1", "s1", "mobile", False, "member")


@pytest.mark.parametrize("change", [
    {"audience": "agent"},
    {"now": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)},
])
def test_wrong_audience_or_expired_is_refused(key, keys, change):
    with pytest.raises(ApiError) as err:
        verify_access_token(token(key, **change), *keys)
    assert (err.value.status, err.value.code) == (401, "invalid_token")


def test_token_signed_by_another_key_is_refused(tmp_path, keys):
    other = tmp_path / "other.pem"
    generate_key_file(other)
    with pytest.raises(ApiError):
        verify_access_token(token(SigningKey.from_pem_file(other)), *keys)


def test_alg_none_is_refused(keys):
    forged = jwt.encode({"sub": "m1", "sid": "s", "aud": "member", "exp": 9999999999},
                        None, algorithm="none")
    with pytest.raises(ApiError):
        verify_access_token(forged, *keys)


def test_pending_password_change_blocks_all_but_allowed_routes():
    pending = Principal("m1", "s1", "web", True, "member")
    enforce_account_state(pending, allowed_before_password_change=True)
    with pytest.raises(ApiError) as err:
        enforce_account_state(pending, allowed_before_password_change=False)
    assert (err.value.status, err.value.code) == (403, "password_change_required")
    done = Principal("m1", "s1", "web", False, "member")
    enforce_account_state(done, allowed_before_password_change=False)


def test_every_member_route_but_the_listed_ones_is_gated():
    """The first-login gate lets through only GET /me and the password change."""
    from gateway.api import MEMBER, ROUTES

    open_routes = {(r.method, r.path) for r in ROUTES
                   if r.access == MEMBER and r.allowed_before_password_change}
    assert open_routes <= {("GET", "/api/v1/me"), ("POST", "/api/v1/auth/password"),
                           ("POST", "/api/v1/auth/refresh"), ("POST", "/api/v1/auth/logout")}
