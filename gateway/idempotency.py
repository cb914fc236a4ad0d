"""`Idempotency-Key` on POSTs that create things: a retried request makes nothing twice.

The first request with a key runs and its answer is kept (24 h); a retry with the
same key and the same body gets that answer again (`Idempotent-Replayed: true`);
the same key with another body is a 422; a retry while the first still runs is a
409. Keys are scoped to the caller, so two members never share one. Answers of
5xx are not kept: the client may retry them. Kept in Redis, shared by every
gateway instance.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import redis
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request, Response

from gateway.problems import ApiError

KEY_MAX = 255
PENDING = "pending"


class IdempotencyStore:
    def __init__(self, client: redis.Redis, prefix: str = "memberspace:",
                 ttl: int = 86400, lock_ttl: int = 60):
        self.redis = client
        self.prefix = prefix
        self.ttl = ttl
        self.lock_ttl = lock_ttl

    def run(self, request: Request, scope: str, handler: Callable[[], Response]) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return handler()
        if not key or len(key) > KEY_MAX or not key.isprintable():
            raise ApiError(400, "invalid_idempotency_key",
                           f"Idempotency-Key must be 1 to {KEY_MAX} printable characters.")
        fingerprint = hashlib.sha256(request.get_data(cache=True)).hexdigest()
        slot = self.prefix + "idem:" + hashlib.sha256(
            f"{scope}\0{request.method}\0{request.path}\0{key}".encode()).hexdigest()
        if not self.redis.set(slot, json.dumps({"state": PENDING, "fp": fingerprint}),
                              nx=True, ex=self.lock_ttl):
            return self._replay(slot, fingerprint)
        try:
            response = handler()
        except BaseException:
            self.redis.delete(slot)
            raise
        if response.status_code >= 500:
            self.redis.delete(slot)
            return response
        self.redis.set(slot, json.dumps({
            "state": "done", "fp": fingerprint, "status": response.status_code,
            "body": response.get_data(as_text=True),
            "content_type": response.headers.get("Content-Type"),
            "location": response.headers.get("Location"),
        }), ex=self.ttl)
        return response

    def _replay(self, slot: str, fingerprint: str) -> Response:
        stored: dict[str, Any] = json.loads(self.redis.get(slot) or "{}")
        if not stored:  # expired between the two calls: let the client retry
            raise ApiError(409, "idempotency_key_in_use",
                           "A request with this Idempotency-Key is being handled; retry.")
        if stored["fp"] != fingerprint:
            raise ApiError(422, "idempotency_key_reused",
                           "This Idempotency-Key was used with a different body.")
        if stored["state"] == PENDING:
            raise ApiError(409, "idempotency_key_in_use",
                           "A request with this Idempotency-Key is being handled; retry.")
        response = Response(stored["body"], status=stored["status"],
                            content_type=stored["content_type"])
        if stored.get("location"):
            response.headers["Location"] = stored["location"]
        response.headers["Idempotent-Replayed"] = "true"
        return response


class SharedState(DependencyProvider):
    """State every gateway instance shares, in Redis: idempotency keys, rate limits and
    the maintenance flag."""

    def setup(self) -> None:
        from gateway.limits import RateLimiter
        from gateway.maintenance import MaintenanceSwitch

        settings = self.container.config["SETTINGS"]
        client = redis.Redis.from_url(settings.GATEWAY_REDIS_URL, socket_timeout=2,
                                      socket_connect_timeout=2)
        self.idempotency = IdempotencyStore(client, prefix=settings.GATEWAY_REDIS_PREFIX)
        self.limits = RateLimiter(client, prefix=settings.GATEWAY_REDIS_PREFIX)
        self.maintenance = MaintenanceSwitch(client, settings.GATEWAY_REDIS_PREFIX)

    def get_dependency(self, worker_ctx: Any) -> SharedState:
        return self
