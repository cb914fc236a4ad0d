"""The OpenAPI 3.1 document, generated from the route table and its schemas."""

from __future__ import annotations

import functools
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.api import AGENT, EXTRA_SCHEMAS, MEMBER, ROUTES, Route
from gateway.schemas import Problem

API_VERSION = "1.0.0"
REQUEST_ID_PARAMETER = {
    "name": "X-Request-ID", "in": "header", "required": False,
    "schema": {"type": "string", "maxLength": 100},
    "description": "Echoed back; follows the request through every service's logs.",
}
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_COMMON_PROBLEMS = (
    (400, "malformed_json"), (413, "payload_too_large"), (415, "unsupported_media_type"),
    (500, "internal_error"), (503, "service_unavailable"), (504, "service_timeout"),
)
_MEMBER_PROBLEMS = ((401, "authentication_required"), (401, "invalid_token"),
                    (403, "password_change_required"))


def _openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in _CONVERTER.findall(path):
        schema = {"type": "string"}
        if converter == "uuid":
            schema["format"] = "uuid"
        elif converter == "int":
            schema = {"type": "integer"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(r"{\2}", path), params


def _operation(route: Route) -> dict[str, Any]:
    _, params = _openapi_path(route.path)
    problems = list(route.problems) + list(_COMMON_PROBLEMS)
    if params or route.query is not None or route.body is not None or route.openapi_body:
        # the services check what the gateway's schemas cannot (cursors, ids, rules)
        problems.append((422, "validation_failed"))
    if route.access in (MEMBER, AGENT):
        problems += [(401, "session_ended"), (403, "wrong_audience"), (403, "csrf_invalid")]
    if route.access == MEMBER and not route.allowed_without_email:
        problems.append((403, "email_not_validated"))
    if route.access == MEMBER:
        problems += [p for p in _MEMBER_PROBLEMS
                     if not (route.allowed_before_password_change
                             and p[1] == "password_change_required")]
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": "Success"}
    if route.response is not None:
        ok["content"] = {"application/json": {"schema": route.response}}
    for media_type in route.other_content:
        ok.setdefault("content", {})[media_type] = {"schema": {"type": "string"}}
    responses[str(route.status)] = ok
    by_status: dict[int, list[str]] = {}
    for status, code in problems:
        by_status.setdefault(status, []).append(code)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": "Problem; `code` is one of: " + ", ".join(sorted(set(codes))),
            "content": {"application/problem+json": {"schema": "Problem"}},
        }
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": list(route.tags),
        "responses": responses,
        "parameters": [*params, REQUEST_ID_PARAMETER],
    }
    if route.idempotent or route.idempotency_header:
        operation["parameters"].append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "A retry with the same key makes nothing twice."})
    if route.query is not None:
        operation["parameters"].append({"in": "query", "schema": route.query})
    if route.body is not None:
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": route.body}}}
    elif route.openapi_body is not None:
        operation["requestBody"] = {"required": True, "content": route.openapi_body}
    operation["security"] = ([{"bearerAuth": []}, {"cookieAuth": []}]
                             if route.access in (MEMBER, AGENT) else [])
    return operation


@functools.cache
def openapi_document() -> dict[str, Any]:
    spec = APISpec(
        title="Member Space API",
        version=API_VERSION,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "The member self-service portal of a social-security fund. "
                             "Every error is application/problem+json with a stable `code`; "
                             "see docs/api-conventions.md."},
        servers=[{"url": "/"}],
    )
    spec.components.schema("Problem", schema=Problem)
    for name, schema in sorted(EXTRA_SCHEMAS.items()):
        spec.components.schema(name, schema=schema)
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.security_scheme(
        "cookieAuth", {"type": "apiKey", "in": "cookie", "name": "ms_access",
                       "description": "Web sessions; state-changing requests also need "
                                      "the X-CSRF-Token header."})
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        path, _ = _openapi_path(route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
