"""The gateway: the only public door. Wiring only; routes live in `gateway.routes`."""

from __future__ import annotations

import time
from typing import Any

from marshmallow import ValidationError, fields, validate
from nameko.events import BROADCAST, event_handler
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from werkzeug.wrappers import Request, Response

import gateway.routes  # noqa: F401  (registers the routes)
from gateway.api import (
    AGENT,
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
from gateway.catalogue import CATALOGUE, REFRESH_SECONDS
from gateway.cors import CorsPolicy
from gateway.headers import forwarded_https, secure_headers
from gateway.idempotency import SharedState
from gateway.limits import client_ip, parse_networks
from gateway.revocation import RevocationView
from gateway.routes.documents import DocumentsUploadSettings
from gateway.security import (
    SAFE_METHODS,
    TokenKeys,
    authenticate,
    enforce_account_state,
    enforce_role,
)
from gateway.static import WebAppFiles, is_app_path
from gateway.web import http
from services.kit.config import BaseSettings, Flag, Settings, Url
from services.kit.context import (
    ACTOR_ID,
    ACTOR_ROLES,
    ACTOR_TYPE,
    CORRELATION_ID,
    SESSION_ID,
    RequestContext,
)
from services.kit.logging import get_logger
from services.kit.metrics import ROUTE_KEY
from services.kit.rpc import ServiceRpc
from services.kit.storage import StorageProvider, StorageSettings

log = get_logger(__name__)

ALL_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"


class CommaList(fields.String):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        return [part.strip() for part in text.split(",") if part.strip()]


class Networks(fields.String):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list:
        try:
            return parse_networks(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(f"comma-separated addresses or CIDR blocks: {exc}") from None


def address_limit(attempts: int, window: int) -> tuple[fields.Integer, fields.Integer]:
    return (fields.Integer(load_default=attempts, validate=validate.Range(1, 100000)),
            fields.Integer(load_default=window, validate=validate.Range(1, 86400)))


class GatewaySettings(BaseSettings, StorageSettings, DocumentsUploadSettings):
    WEB_SERVER_ADDRESS = fields.String(
        load_default="127.0.0.1:8000",
        validate=validate.Regexp(r"^[0-9A-Za-z.\-\[\]:]+:[0-9]{1,5}$",
                                 error="host:port, e.g. 127.0.0.1:8000"))
    GATEWAY_SERVICES = CommaList(load_default=["auth", "notifications", "benefits",
                                               "documents", "pension"])
    RPC_TIMEOUT = fields.Float(load_default=10.0, validate=validate.Range(0.1, 60))
    GATEWAY_REDIS_URL = Url(("redis", "rediss", "unix"), load_default="redis://127.0.0.1:6379/0")
    GATEWAY_REDIS_PREFIX = fields.String(load_default="memberspace:")
    GATEWAY_COOKIE_SECURE = Flag(load_default=True)
    GATEWAY_COOKIE_SAMESITE = fields.String(load_default="Lax",
                                            validate=validate.OneOf(["Lax", "Strict", "None"]))
    GATEWAY_COOKIE_DOMAIN = fields.String(load_default="")
    GATEWAY_CORS_ORIGINS = CommaList(load_default=[])
    GATEWAY_TRUSTED_PROXIES = Networks(load_default=[])
    # per client address: attempts allowed in a window of seconds (a route's rate_limit)
    GATEWAY_LOGIN_LIMIT_PER_IP, GATEWAY_LOGIN_LIMIT_WINDOW = address_limit(300, 600)
    GATEWAY_FORGOT_LIMIT_PER_IP, GATEWAY_FORGOT_LIMIT_WINDOW = address_limit(60, 600)
    GATEWAY_CARD_STATUS_LIMIT_PER_IP, GATEWAY_CARD_STATUS_LIMIT_WINDOW = address_limit(120, 60)
    GATEWAY_SIMULATION_LIMIT_PER_IP, GATEWAY_SIMULATION_LIMIT_WINDOW = address_limit(60, 60)
    GATEWAY_WALLET_LIMIT_PER_IP, GATEWAY_WALLET_LIMIT_WINDOW = address_limit(300, 60)
    GATEWAY_REFRESH_LIMIT_PER_IP, GATEWAY_REFRESH_LIMIT_WINDOW = address_limit(600, 600)
    GATEWAY_MCONNECT_LIMIT_PER_IP, GATEWAY_MCONNECT_LIMIT_WINDOW = address_limit(120, 600)
    # who may read /health's details (each service's checks); others get {status} alone
    GATEWAY_HEALTH_DETAIL_NETWORKS = Networks(
        load_default=lambda: parse_networks("127.0.0.0/8,::1/128"))
    GATEWAY_PASSWORD_CHECK_LIMIT_PER_IP, GATEWAY_PASSWORD_CHECK_LIMIT_WINDOW = \
        address_limit(120, 60)
    GATEWAY_STATUS_LIMIT_PER_IP, GATEWAY_STATUS_LIMIT_WINDOW = address_limit(300, 60)
    # the built web app (webapp/ -> npm run build); relative to the repository
    GATEWAY_WEB_DIR = fields.String(load_default="gateway/web")
    GATEWAY_WEB_APP_URL = Url(("http", "https"), load_default="http://127.0.0.1:8000/")
    GATEWAY_MOBILE_REDIRECT_URL = fields.String(load_default="memberspace://mconnect")
    # the fund's staff's routes (/api/v1/agent/...): off on the public gateway, on on
    # the internal one (docs/security.md)
    GATEWAY_STAFF_ROUTES = Flag(load_default=True)


class WorkerContext(DependencyProvider):
    def get_dependency(self, worker_ctx: Any) -> Any:
        return worker_ctx


ROUTERS = {True: Router(ROUTES, staff=True), False: Router(ROUTES, staff=False)}


class GatewayService:
    name = "gateway"
    settings_schema = GatewaySettings

    context = RequestContext(log_calls=False)
    settings = Settings()
    worker = WorkerContext()
    token_keys = TokenKeys()
    shared = SharedState()
    revocations = RevocationView()
    auth = ServiceRpc("auth")
    notifications = ServiceRpc("notifications")
    benefits = ServiceRpc("benefits")
    documents = ServiceRpc("documents")
    pension = ServiceRpc("pension")
    storage = StorageProvider("quarantine", "documents", "forms")
    web_app = WebAppFiles()

    @http(ALL_METHODS, "/")
    def root(self, request: Request) -> Response:
        return self.dispatch(request)

    @http(ALL_METHODS, "/<path:path>")
    def any_path(self, request: Request, path: str) -> Response:
        return self.dispatch(request)

    @event_handler("auth", "sessions_ended", handler_type=BROADCAST, reliable_delivery=False)
    def on_sessions_ended(self, envelope: dict) -> None:
        self.revocations.add(list(envelope.get("data", {}).get("session_ids", [])))

    @event_handler("auth", "member_updated", handler_type=BROADCAST, reliable_delivery=False)
    def on_member_updated(self, envelope: dict) -> None:
        self.revocations.account_state(envelope.get("data", {}))

    @timer(interval=REFRESH_SECONDS, eager=True)
    def ask_request_types(self) -> None:
        """At start, and each minute until documents answers: the request types the
        OpenAPI document lists (gateway.catalogue; the route refreshes them after)."""
        if CATALOGUE.answered is None:
            CATALOGUE.refresh(lambda: self.documents.request_types(
                _timeout=CATALOGUE.ask_timeout))

    def dispatch(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = self.worker.context_data[CORRELATION_ID]
        cors = CorsPolicy(self.settings.GATEWAY_CORS_ORIGINS)
        try:
            if request.method == "OPTIONS" and cors.is_preflight(request):
                response = cors.preflight(request)
            else:
                response = self.handle(request, request_id)
        except Exception as exc:
            response = error_response(exc, request, request_id)
        cors.decorate(request, response)
        response.headers["X-Request-ID"] = request_id
        secure_headers(response, forwarded_https(
            request, self.settings.GATEWAY_TRUSTED_PROXIES))
        log.info("request", method=request.method, path=request.path,
                 status=response.status_code,
                 duration_ms=round((time.perf_counter() - started) * 1000, 2))
        return response

    def handle(self, request: Request, request_id: str) -> Response:
        if is_app_path(request):
            return self.web_app.serve(request)
        route, params = ROUTERS[self.settings.GATEWAY_STAFF_ROUTES].match(request)
        if request.method not in SAFE_METHODS and not route.during_maintenance:
            self.shared.maintenance.refuse_changes()
        request.environ[ROUTE_KEY] = route.path  # the metrics' route label
        call = Call(request, self, self.worker, request_id, params,
                    client_ip=client_ip(request, self.settings.GATEWAY_TRUSTED_PROXIES))
        if route.rate_limit:
            limit = getattr(self.settings, f"GATEWAY_{route.rate_limit.upper()}_LIMIT_PER_IP")
            window = getattr(self.settings, f"GATEWAY_{route.rate_limit.upper()}_LIMIT_WINDOW")
            self.shared.limits.hit(route.rate_limit, call.client_ip, limit, window)
        if route.access in (MEMBER, AGENT):
            self.authenticate(call, route)
        if route.body is not None:
            call.body = load(route.body, read_json(request, route.max_body))
        if route.query is not None:
            call.query = load(route.query, query_dict(request))
        if route.idempotent:
            scope = call.principal.member_id if call.principal else call.client_ip
            return self.shared.idempotency.run(
                request, scope, lambda: render(route, route.handler(call)))
        return render(route, route.handler(call))

    def authenticate(self, call: Call, route: Any) -> None:
        principal = authenticate(call.request, self.token_keys, self.auth.get_token_keys,
                                 self.revocations, route.access)
        if route.access == MEMBER:
            enforce_account_state(principal, route.allowed_before_password_change,
                                  route.allowed_without_email,
                                  self.revocations.email_validated.get(principal.member_id))
        else:
            enforce_role(principal, route.required_role)
        call.principal = principal
        data = self.worker.data  # what nameko copies into the headers of every call
        data[ACTOR_TYPE], data[ACTOR_ID] = route.access, principal.member_id
        data[SESSION_ID] = principal.session_id
        if principal.roles:  # services check an agent's role again per method
            data[ACTOR_ROLES] = ",".join(principal.roles)
