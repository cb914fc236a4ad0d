"""The catalogue of request types the OpenAPI document publishes.

documents answers it over RPC (`documents.request_types()`: each type's `name`,
`initial_status`, `completed_by`, `needs_document` and `params_schema`, JSON Schema
2020-12), types owned by other services included. The gateway asks at start, then
again at most once a minute when `/api/v1/openapi.json` is requested; after a failed
ask, at most once every few seconds. While documents has not answered, the document
lists the registry's built-in types (services.contracts.requests). Only the document
depends on it: documents checks every request itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, ValidationError

from services.contracts.requests import BUILT_IN_REQUEST_TYPES, RequestTypeEntry
from services.kit.logging import get_logger

log = get_logger(__name__)

REFRESH_SECONDS = 60.0      # after an answer
RETRY_SECONDS = 5.0         # after a failed ask
ASK_TIMEOUT = 3.0

_entries = RequestTypeEntry(many=True)


def json_schema(schema: type[Schema]) -> dict[str, Any]:
    """A marshmallow schema as JSON Schema (apispec's converter, as the document uses)."""
    plugin = MarshmallowPlugin()
    APISpec(title="", version="", openapi_version="3.1.0", plugins=[plugin])
    return plugin.converter.schema2jsonschema(schema)


def built_in_entries() -> list[dict[str, Any]]:
    """The registry's own types, as documents would list them."""
    return [{"name": t.name, "initial_status": t.initial_status,
             "completed_by": t.completed_by, "needs_document": t.needs_document,
             "params_schema": json_schema(t.params)} for t in BUILT_IN_REQUEST_TYPES]


class RequestCatalogue:
    """What the gateway last heard from documents; one per process."""

    ask_timeout = ASK_TIMEOUT

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.answered: list[dict[str, Any]] | None = None
        self.asked_at: float | None = None
        self.last_ask_failed = False
        self.version = 0  # changes with every new answer (the document is rebuilt)
        self._built_in: list[dict[str, Any]] | None = None

    def due(self) -> bool:
        if self.asked_at is None:
            return True
        wait = RETRY_SECONDS if self.last_ask_failed else REFRESH_SECONDS
        return self.clock() - self.asked_at >= wait

    def refresh_if_due(self, ask: Callable[[], Any]) -> None:
        if self.due():
            self.refresh(ask)

    def refresh(self, ask: Callable[[], Any]) -> bool:
        """Ask documents; keep what it answered, or what we had. True when it answered."""
        self.asked_at = self.clock()
        try:
            answer = _entries.load(ask())
        except ValidationError as exc:
            log.warning("request_types_malformed", errors=exc.messages)
        except Exception as exc:  # documents down, slow, or without the RPC yet
            log.info("request_types_unavailable", error=getattr(exc, "code", type(exc).__name__))
        else:
            self.last_ask_failed = False
            if answer != self.answered:
                self.answered, self.version = answer, self.version + 1
            return True
        self.last_ask_failed = True
        return False

    def entries(self) -> list[dict[str, Any]]:
        if self.answered is not None:
            return self.answered
        if self._built_in is None:
            self._built_in = built_in_entries()
        return self._built_in


CATALOGUE = RequestCatalogue()
