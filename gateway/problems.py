"""Every error the gateway answers is `application/problem+json` (RFC 9457)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ApiError(Exception):
    """An error answered as a problem; raised anywhere in a route."""

    def __init__(self, status: int, code: str, detail: str = "",
                 errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, code: str, detail: str = "", *, instance: str | None = None,
                 request_id: str | None = None, errors: list[dict[str, str]] | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:memberspace:problem:{code}",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail or HTTP_STATUS_CODES.get(status, "Error"),
    }
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = [
            {"field": e.get("field", ""), "code": e.get("code", "invalid"),
             "detail": e.get("detail", "")}
            for e in errors
        ]
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return body


def problem_response(status: int, code: str, detail: str = "", *,
                     instance: str | None = None, request_id: str | None = None,
                     errors: list[dict[str, str]] | None = None,
                     headers: dict[str, str] | None = None,
                     extra: dict[str, Any] | None = None) -> Response:
    body = problem_body(status, code, detail, instance=instance, request_id=request_id,
                        errors=errors, extra=extra)
    response = Response(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response
