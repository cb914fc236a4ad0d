"""What the gateway does with odd bodies and headers: a clear problem, never a 500."""

import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.api import MAX_JSON_DEPTH, read_json
from gateway.problems import ApiError
from gateway.security import CSRF_COOKIE, CSRF_HEADER, check_csrf


def json_request(raw: bytes) -> Request:
    return Request(EnvironBuilder(method="POST", data=raw,
                                  content_type="application/json").get_environ())


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5000])
def test_deeply_nested_bodies_are_malformed_json(depth):
    raw = b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    with pytest.raises(ApiError) as refused:
        read_json(json_request(raw), 1 << 20)
    assert (refused.value.status, refused.value.code) == (400, "malformed_json")


def test_a_body_within_the_depth_is_read():
    body = {"a": [[{"b": [1]}]]}
    assert read_json(json_request(json.dumps(body).encode()), 4096) == body


@pytest.mark.parametrize("header,cookie", [("é", "é"), ("abc", "\u00ff"), ("\u00e9x", "ab")])
def test_csrf_with_non_ascii_values_is_refused_not_an_error(header, cookie):
    request = Request(EnvironBuilder(method="POST", headers={
        CSRF_HEADER: header.encode("latin-1").decode("latin-1"),
        "Cookie": f"{CSRF_COOKIE}={cookie}"}).get_environ())
    if header == cookie:  # equal, but not the session's
        with pytest.raises(ApiError) as refused:
            check_csrf(request, "0" * 64)
    else:
        with pytest.raises(ApiError) as refused:
            check_csrf(request, None)
    assert refused.value.code == "csrf_invalid"
