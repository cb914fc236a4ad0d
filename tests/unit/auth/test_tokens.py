"""Token digests: any string hashes (lone surrogates included); anything else is refused."""

import hashlib

import pytest

from services.auth.tokens import digest, new_refresh_token


def test_digest_of_an_ordinary_token_is_its_sha256():
    assert digest("abc") == hashlib.sha256(b"abc").hexdigest()
    token, stored = new_refresh_token()
    assert digest(token) == stored


def test_a_lone_surrogate_hashes_instead_of_raising():
    assert len(digest("\ud800")) == 64
    assert digest("\ud800") != digest("\ud801")


@pytest.mark.parametrize("value", [None, 12, ["token"], b"token"])
def test_a_non_string_is_refused_as_such(value):
    with pytest.raises(TypeError):
        digest(value)
