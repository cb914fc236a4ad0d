"""Idempotency-Key against a real Redis."""

from __future__ import annotations

import json
import uuid

import pytest
import redis
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from gateway.idempotency import IdempotencyStore
from gateway.problems import ApiError


@pytest.fixture
def store():
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"memberspace-test:{uuid.uuid4().hex}:"
    yield IdempotencyStore(client, prefix=prefix)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def request(body: dict, key: str | None = "k-1", path: str = "/api/v1/things") -> Request:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return Request(EnvironBuilder(method="POST", path=path, json=body,
                                  headers=headers).get_environ())


class Creator:
    def __init__(self) -> None:
        self.created = 0

    def __call__(self) -> Response:
        self.created += 1
        return Response(json.dumps({"id": self.created}), status=201,
                        content_type="application/json")


def test_retry_replays_and_creates_nothing_twice(store):
    create = Creator()
    first = store.run(request({"a": 1}), "member-1", create)
    again = store.run(request({"a": 1}), "member-1", create)
    assert create.created == 1
    assert (again.status_code, again.get_json()) == (201, {"id": 1})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_same_key_other_body_is_refused(store):
    store.run(request({"a": 1}), "member-1", Creator())
    with pytest.raises(ApiError) as err:
        store.run(request({"a": 2}), "member-1", Creator())
    assert (err.value.status, err.value.code) == (422, "idempotency_key_reused")


def test_keys_are_per_caller_and_optional(store):
    create = Creator()
    store.run(request({"a": 1}), "member-1", create)
    store.run(request({"a": 1}), "member-2", create)
    store.run(request({"a": 1}, key=None), "member-1", create)
    store.run(request({"a": 1}, key=None), "member-1", create)
    assert create.created == 4


def test_in_flight_duplicate_is_a_conflict(store):
    def slow_first() -> Response:
        with pytest.raises(ApiError) as err:
            store.run(request({"a": 1}), "member-1", Creator())
        assert (err.value.status, err.value.code) == (409, "idempotency_key_in_use")
        return Response("{}", status=201)

    store.run(request({"a": 1}), "member-1", slow_first)


def test_failures_are_not_kept(store):
    def boom() -> Response:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        store.run(request({"a": 1}), "member-1", boom)
    server_error = store.run(request({"a": 1}), "member-1",
                             lambda: Response("{}", status=503))
    assert server_error.status_code == 503
    create = Creator()
    assert store.run(request({"a": 1}), "member-1", create).status_code == 201
    assert create.created == 1


def test_bad_keys(store):
    for key in ("", "x" * 256, "tab\there"):
        with pytest.raises(ApiError) as err:
            store.run(request({"a": 1}, key=key), "member-1", Creator())
        assert err.value.code == "invalid_idempotency_key"
