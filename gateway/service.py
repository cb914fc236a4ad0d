"""The gateway: the only public door. Wiring only; routes live in `gateway.routes`."""

from __future__ import annotations

import time
from typing import Any

from marshmallow import fields, validate
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request, Response

import gateway.routes  # noqa: F401  (registers the routes)
from gateway.api import (
    MEMBER,
    ROUTES,
    Call,
    Router,
    error_response,
    load,
    query_dict,
    read_json,
    render,
)
from gateway.idempotency import Idempotency
from gateway.security import TokenKeys, enforce_account_state, require_member
from gateway.web import http
from services.kit.config import BaseSettings, Settings, Url
from services.kit.context import ACTOR_ID, ACTOR_TYPE, CORRELATION_ID, SESSION_ID, RequestContext
from services.kit.logging import get_logger
from services.kit.rpc import ServiceRpc

log = get_logger(__name__)

ALL_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"


class ServiceList(fields.String):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        return [name.strip() for name in text.split(",") if name.strip()]


class GatewaySettings(BaseSettings):
    WEB_SERVER_ADDRESS = fields.String(
        load_default="127.0.0.1:8000",
        validate=validate.Regexp(r"^[0-9A-Za-z.\-\[\]:]+:[0-9]{1,5}$",
                                 error="host:port, e.g. 127.0.0.1:8000"))
    GATEWAY_SERVICES = ServiceList(load_default=["auth"])
    RPC_TIMEOUT = fields.Float(load_default=10.0, validate=validate.Range(0.1, 60))
    GATEWAY_REDIS_URL = Url(("redis", "rediss", "unix"), load_default="redis://127.0.0.1:6379/0")
    GATEWAY_REDIS_PREFIX = fields.String(load_default="memberspace:")


class WorkerContext(DependencyProvider):
    def get_dependency(self, worker_ctx: Any) -> Any:
        return worker_ctx


ROUTER = Router(ROUTES)


class GatewayService:
    name = "gateway"
    settings_schema = GatewaySettings

    context = RequestContext(log_calls=False)
    settings = Settings()
    worker = WorkerContext()
    token_keys = TokenKeys()
    idempotency = Idempotency()
    auth = ServiceRpc("auth")

    @http(ALL_METHODS, "/")
    def root(self, request: Request) -> Response:
        return self.dispatch(request)

    @http(ALL_METHODS, "/<path:path>")
    def any_path(self, request: Request, path: str) -> Response:
        return self.dispatch(request)

    def dispatch(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = self.worker.context_data[CORRELATION_ID]
        try:
            route, params = ROUTER.match(request)
            call = Call(request, self, self.worker, request_id, params)
            if route.access == MEMBER:
                self.authenticate(call, route)
            if route.body is not None:
                call.body = load(route.body, read_json(request, route.max_body))
            if route.query is not None:
                call.query = load(route.query, query_dict(request))
            if route.idempotent:
                scope = call.principal.member_id if call.principal else request.remote_addr
                response = self.idempotency.run(
                    request, scope or "", lambda: render(route, route.handler(call)))
            else:
                response = render(route, route.handler(call))
        except Exception as exc:
            response = error_response(exc, request, request_id)
        response.headers["X-Request-ID"] = request_id
        response.headers.setdefault("Cache-Control", "no-store")
        log.info("request", method=request.method, path=request.path,
                 status=response.status_code,
                 duration_ms=round((time.perf_counter() - started) * 1000, 2))
        return response

    def authenticate(self, call: Call, route: Any) -> None:
        principal = require_member(call.request, self.token_keys, self.auth.get_token_keys)
        enforce_account_state(principal, route.allowed_before_password_change)
        call.principal = principal
        data = self.worker.context_data
        data[ACTOR_TYPE], data[ACTOR_ID] = "member", principal.member_id
        data[SESSION_ID] = principal.session_id
