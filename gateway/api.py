"""The gateway's routes: one table that both dispatches requests and writes OpenAPI.

A route module declares handlers with `@route(...)`; each names its request and
response schemas, who may call it and the problems it can answer. Dispatch parses
and validates (415/413/400/422), checks the caller, calls the handler, and dumps the
result through the response schema, so nothing undeclared reaches a client.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import redis
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from gateway.problems import ApiError, problem_response
from services.kit.errors import FieldError, ServiceError, marshmallow_errors
from services.kit.logging import get_logger

log = get_logger(__name__)

PUBLIC = "public"
MEMBER = "member"
AGENT = "agent"

JSON_BODY_LIMIT = 64 * 1024
STAFF_PREFIX = "/api/v1/agent/"


@dataclass(eq=False)
class Route:
    method: str
    path: str  # werkzeug rule syntax, e.g. /api/v1/requests/<uuid:request_id>
    handler: Callable[..., Any]
    access: str = PUBLIC
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    summary: str = ""
    tags: tuple[str, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()
    # member routes a session with a pending password change may still use
    allowed_before_password_change: bool = False
    # member routes usable before the member has a validated e-mail address
    allowed_without_email: bool = False
    max_body: int = JSON_BODY_LIMIT
    idempotent: bool = False
    rate_limit: str | None = None  # name of a per-client-address limit (settings)
    # long lists whose items the service shapes field by field: only the answer's
    # top-level keys are filtered against the schema (a full nested dump costs a fifth
    # of the gateway's time on a 50-item page)
    light_dump: bool = False
    # a body the route parses itself (multipart), described for the OpenAPI document
    openapi_body: dict[str, Any] | None = None
    idempotency_header: bool = False  # handled by the route itself
    # other media types the success answer may take (e.g. "text/csv" on ?format=csv)
    other_content: tuple[str, ...] = ()
    # agent routes: the role the agent needs (services.kit.roles; default `agent`)
    role: str | None = None
    # a state-changing route that still works in maintenance (login, refresh, logout)
    during_maintenance: bool = False
    name: str = field(default="")

    @property
    def staff(self) -> bool:
        """The fund's staff's routes: only on gateways with GATEWAY_STAFF_ROUTES on."""
        return self.access == AGENT or self.path.startswith(STAFF_PREFIX)

    @property
    def required_role(self) -> str | None:
        return (self.role or "agent") if self.access == AGENT else None


ROUTES: list[Route] = []
# schemas the OpenAPI document names without a route using them directly
EXTRA_SCHEMAS: dict[str, type[Schema]] = {}


def route(method: str, path: str, **options: Any) -> Callable[[Callable], Callable]:
    def register(handler: Callable) -> Callable:
        ROUTES.append(Route(method, path, handler, name=handler.__name__, **options))
        return handler

    return register


@dataclass
class Call:
    """One request as a handler sees it."""

    request: Request
    services: Any  # the gateway service instance: RPC clients as attributes
    worker_ctx: Any
    request_id: str
    path_params: dict[str, Any]
    body: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    principal: Any = None
    client_ip: str = ""

    @property
    def member_id(self) -> str:
        return self.principal.member_id

    @property
    def settings(self) -> Any:
        return self.services.settings


class Router:
    """Matches requests to routes; a gateway without staff routes has none of them, so
    they answer 404 `not_found` like any unknown address."""

    def __init__(self, routes: list[Route], staff: bool = True):
        routes = [r for r in routes if staff or not r.staff]
        self.routes = routes
        self.map = Map(
            [Rule(r.path, methods=[r.method], endpoint=r) for r in routes],
            strict_slashes=False,
        )

    def match(self, request: Request) -> tuple[Route, dict[str, Any]]:
        adapter = self.map.bind_to_environ(request.environ)
        try:
            return adapter.match()
        except MethodNotAllowed as exc:
            raise ApiError(405, "method_not_allowed",
                           f"{request.method} is not allowed here.",
                           headers={"Allow": ", ".join(exc.valid_methods or [])}) from None
        except NotFound:
            raise ApiError(404, "not_found", "There is nothing at this address.") from None
        except Exception:  # redirects and other routing answers
            raise ApiError(404, "not_found", "There is nothing at this address.") from None


def read_json(request: Request, limit: int) -> dict[str, Any]:
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", f"The body may not exceed {limit} bytes.")
    request.max_content_length = limit
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413, "payload_too_large",
                       f"The body may not exceed {limit} bytes.") from None
    if len(raw) > limit:
        raise ApiError(413, "payload_too_large", f"The body may not exceed {limit} bytes.")
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    if _depth(data) > MAX_JSON_DEPTH:  # nothing the API takes nests this deep
        raise ApiError(400, "malformed_json",
                       f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
    return data


MAX_JSON_DEPTH = 32


def _depth(data: Any) -> int:
    """How deeply objects and arrays nest (without recursion: bodies are untrusted)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                stack += [(v, level + 1) for v in (value.values() if isinstance(value, dict)
                                                   else value)]
    return deepest


def load(schema_cls: type[Schema], data: Any, location: str = "") -> dict[str, Any]:
    nul = list(_nul_characters(data, location))
    if nul:  # no text the suite stores may hold one (PostgreSQL refuses it)
        raise ApiError(422, "validation_failed", "The request has invalid fields.",
                       errors=[FieldError(path, "nul_character",
                                          "Text may not contain NUL (U+0000) characters.")
                               for path in nul])
    try:
        return schema_instance(schema_cls).load(data)
    except ValidationError as exc:
        errors = marshmallow_errors(exc.messages, location)
        raise ApiError(422, "validation_failed", "The request has invalid fields.",
                       errors=errors) from None


def _nul_characters(data: Any, path: str) -> Any:
    """The paths (a.b.0) of the strings, keys included, that hold a NUL character."""
    if isinstance(data, str):
        if "\x00" in data:
            yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                yield inner
            else:
                yield from _nul_characters(value, inner)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _nul_characters(value, f"{path}.{i}" if path else str(i))


def query_dict(request: Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        out[key] = values[0] if len(values) == 1 else values
    return out


def json_body(payload: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: a long page costs a fifth of what the standard
    library's encoder takes); what orjson refuses (integer keys ...) goes to the
    standard library."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return json.dumps(payload, separators=(",", ":")).encode()


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 one (RFC 6266 / 5987)."""
    ascii_name = "".join(c for c in unicodedata.normalize("NFKD", filename)
                         if c.isascii() and c.isprintable() and c not in '"\\;')
    ascii_name = ascii_name.strip() or "download"
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def json_response(payload: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    response = Response(json_body(payload), status=status,
                        content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@functools.cache
def schema_instance(schema_cls: type[Schema]) -> Schema:
    """One instance per schema class: dumping and loading are thread-safe."""
    return schema_cls()


@functools.cache
def _declared(schema_cls: type[Schema]) -> frozenset[str]:
    return frozenset(f.data_key or name for name, f in schema_instance(schema_cls).fields.items())


def render(route: Route, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    status, headers = route.status, None
    if isinstance(result, tuple):
        result, status, headers = (*result, None)[:3]
    if status == 204 or result is None:
        return Response(status=204 if result is None else status, headers=headers)
    if route.response is None:
        payload = result
    elif route.light_dump and isinstance(result, dict):
        declared = _declared(route.response)
        payload = {k: v for k, v in result.items() if k in declared}
    else:
        payload = schema_instance(route.response).dump(result)
    return json_response(payload, status, headers)


def error_response(exc: BaseException, request: Request, request_id: str) -> Response:
    if isinstance(exc, ApiError):
        return problem_response(exc.status, exc.code, exc.detail, instance=request.path,
                                request_id=request_id, errors=exc.errors,
                                headers=exc.headers, extra=exc.extra)
    if isinstance(exc, ServiceError):
        extra = dict(exc.extra)
        errors = extra.pop("errors", None)
        status = exc.status if 400 <= exc.status <= 599 else 500
        if status == 500:
            log.error("service_internal_error", code=exc.code)
        headers = {"Retry-After": extra.pop("retry_after")} if "retry_after" in extra else None
        extra.pop("client", None)  # routing hints for the gateway, not for clients
        return problem_response(status, exc.code, exc.detail, instance=request.path,
                                request_id=request_id, errors=errors, extra=extra,
                                headers=headers)
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        log.error("shared_state_unavailable", error=type(exc).__name__)
        return problem_response(503, "service_unavailable",
                                "A shared store is not available; retry shortly.",
                                instance=request.path, request_id=request_id,
                                headers={"Retry-After": "2"})
    log.error("unhandled_route_error", exc_info=exc)
    return problem_response(500, "internal_error", "An internal error occurred.",
                            instance=request.path, request_id=request_id)
