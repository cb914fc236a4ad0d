"""The OpenAPI 3.1 document, generated from the route table and its schemas."""

from __future__ import annotations

import copy
import functools
import json
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
    if route.rate_limit:
        problems.append((429, "too_many_requests"))
    if route.access in (MEMBER, AGENT):
        problems += [(401, "session_ended"), (403, "wrong_audience"), (403, "csrf_invalid")]
    if route.access == AGENT:
        problems.append((403, "role_required"))
    if route.method not in ("GET", "HEAD") and not route.during_maintenance:
        problems.append((503, "maintenance"))
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
    if route.required_role:
        operation["x-required-role"] = route.required_role
        operation["description"] = (f"Staff only: needs the `{route.required_role}` role "
                                     "(a supervisor has every agent's role).")
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


def openapi_document(request_types: list[dict[str, Any]] | None = None,
                     staff: bool = True) -> dict[str, Any]:
    """The whole document; `POST /api/v1/requests` as one of `request_types` (the
    catalogue's entries, gateway.catalogue; the registry's built-in types by default);
    without the staff's routes when `staff` is off (GATEWAY_STAFF_ROUTES)."""
    if request_types is None:
        from gateway.catalogue import built_in_entries

        request_types = built_in_entries()
    key = json.dumps([request_types, staff], sort_keys=True, default=str)
    if _last_document[0] != key:
        document = copy.deepcopy(_route_document(staff))
        with_request_types(document, request_types)
        _last_document[:] = [key, document]
    return _last_document[1]


_last_document: list[Any] = [None, None]


def camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def with_request_types(document: dict[str, Any], request_types: list[dict[str, Any]]) -> None:
    """Describe `POST /api/v1/requests` as `oneOf` the request types, discriminated by
    `type`: a component `New<Type>Request` per type, its params as `<Type>Params`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    mapping: dict[str, str] = {}
    for entry in sorted(request_types, key=lambda e: e["name"]):
        name = entry["name"]
        params_ref = f"#/components/schemas/{camel(name)}Params"
        schemas[f"{camel(name)}Params"] = _rebased(entry["params_schema"], params_ref)
        ref = f"#/components/schemas/New{camel(name)}Request"
        needs = "; the member must send a supporting document" if entry["needs_document"] \
            else ""
        schemas[f"New{camel(name)}Request"] = {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string", "const": name},
                           "params": {"$ref": params_ref}},
            "additionalProperties": False,
            "description": f"`{name}`: starts `{entry['initial_status']}`, completed by "
                           f"{entry['completed_by']}{needs}.",
        }
        mapping[name] = ref
    schemas["NewRequest"] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
        "description": "One of the request types; `params` as that type's <Type>Params "
                       "(`{}` when it has none).",
    }
    operation = document["paths"]["/api/v1/requests"]["post"]
    operation["requestBody"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/NewRequest"}


def _rebased(schema: Any, base: str) -> Any:
    """A JSON Schema moved under `base`: its own `#/...` references (to its `$defs`)
    follow it; `$id` goes, so that they resolve within this document."""
    if isinstance(schema, dict):
        return {k: (base + v[1:] if k == "$ref" and isinstance(v, str) and v.startswith("#/")
                    and not v.startswith("#/components/") else _rebased(v, base))
                for k, v in schema.items() if k != "$id"}
    if isinstance(schema, list):
        return [_rebased(v, base) for v in schema]
    return schema


@functools.cache
def _route_document(staff: bool = True) -> dict[str, Any]:
    """The routes' document; without the staff's routes for a gateway that has them off."""
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
        if route.staff and not staff:
            continue
        path, _ = _openapi_path(route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
