"""Errors that cross service boundaries.

A `ServiceError` raised inside an RPC method is re-raised as the same class in the
caller (nameko's exception registry), carrying a stable `code`, an HTTP-ish `status`,
a human `detail` and optional `extra` (field errors). The gateway turns it into
problem+json. Anything else that escapes a service is an internal error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nameko.exceptions import deserialize_to_instance


class ServiceError(Exception):
    """A domain error with a stable code; its args survive RPC serialisation."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str = "",
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ):
        code = code or type(self).code
        # nameko turns non-string args into strings on the wire; take them back
        status = int(status) if status else type(self).status
        super().__init__(detail, code, status, extra or {})
        self.detail = detail
        self.code = code
        self.status = status
        self.extra = extra or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        deserialize_to_instance(cls)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


deserialize_to_instance(ServiceError)


class FieldError(dict):
    """One entry of a validation problem's `errors` list."""

    def __init__(self, field: str, code: str, detail: str):
        super().__init__(field=field, code=code, detail=detail)


class ValidationFailed(ServiceError):
    """422 with the list of field errors in `extra["errors"]`."""

    status = 422
    code = "validation_failed"

    @classmethod
    def of(cls, errors: list[dict[str, str]], detail: str = "The request has invalid fields.",
           code: str | None = None) -> ValidationFailed:
        return cls(detail, code=code, extra={"errors": list(errors)})

    @property
    def errors(self) -> list[dict[str, str]]:
        return list(self.extra.get("errors", []))


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class TooManyRequests(ServiceError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(ServiceError):
    status = 503
    code = "service_unavailable"


class ServiceTimeout(ServiceError):
    status = 504
    code = "service_timeout"


def marshmallow_errors(messages: Any, prefix: str = "",
                       code_for: Callable[[str], str] | None = None) -> list[dict[str, str]]:
    """Flatten marshmallow's nested messages into `{field, code, detail}` entries, the
    one way every service does (fields as "career.1.end"; "body" for the whole body).

    A message's own `code` wins (a str subclass carrying one, e.g. the simulator's
    `CodedMessage`); otherwise `code_for(text)` guesses it from marshmallow's wording
    (this module's guesses by default; a service keeps its published codes by passing
    its own)."""
    code_for = code_for or _code_for
    out: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            if key == "_schema":
                name = prefix or "body"
            out.extend(marshmallow_errors(value, name, code_for))
        return out
    for msg in messages if isinstance(messages, list) else [messages]:
        if isinstance(msg, Mapping | list):
            out.extend(marshmallow_errors(msg, prefix, code_for))
            continue
        code = getattr(msg, "code", None) or code_for(str(msg))
        out.append(FieldError(prefix or "body", code, str(msg)))
    return out


def _code_for(message: str) -> str:
    lowered = message.lower()
    if "missing data" in lowered or "required" in lowered:
        return "required"
    if "unknown field" in lowered:
        return "unknown_field"
    if "not a valid" in lowered or "invalid" in lowered:
        return "invalid"
    if "length" in lowered or "longer" in lowered or "shorter" in lowered:
        return "length"
    if "must be one of" in lowered:
        return "not_allowed"
    if "null" in lowered:
        return "null"
    return "invalid"
