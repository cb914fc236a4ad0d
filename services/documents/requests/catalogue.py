"""The request-type catalogue (`documents.request_types()`): each type's name, starting
state, who completes it, whether it needs a supporting document, and its parameters as
JSON Schema 2020-12 (from the marshmallow schema for the registry's own types, from
the owner's `params_schema` hook for the others, kept a little while per owner)."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema

from services.kit.logging import get_logger

if TYPE_CHECKING:
    from services.documents.requests.hooks import HookSet
    from services.documents.requests.types import RequestType

log = get_logger(__name__)

OBJECT: dict[str, Any] = {"type": "object"}  # what an owner without the hook gives
ANSWER_KEPT = 60.0    # seconds an owner's schemas are kept
FALLBACK_KEPT = 10.0  # seconds before an owner that gave no schema is asked again

# OpenAPI 3.1 schema objects are JSON Schema 2020-12: apispec's marshmallow converter
# for 3.1 writes exactly that (no `nullable`, `type` lists instead)
_CONVERTER = OpenAPIConverter(openapi_version="3.1.0", spec=None,
                              schema_name_resolver=lambda _schema: None)
_CONVERTER_LOCK = threading.Lock()  # apispec keeps state while converting


@functools.cache
def params_json_schema(schema: type[Schema]) -> dict[str, Any]:
    """A marshmallow schema of parameters as JSON Schema 2020-12: properties named as
    sent (`data_key`), `required`, validators as keywords (`enum`, `minimum`,
    `maxLength`...), and `additionalProperties: false` when unknown fields are refused."""
    with _CONVERTER_LOCK:
        return _CONVERTER.schema2jsonschema(schema)


class OwnerSchemas:
    """Owners' answers, kept ANSWER_KEPT seconds per type. An owner that fails to answer
    (no such hook, not running, too slow, not an object) gives `{"type": "object"}` for
    all its types, and is not asked again for FALLBACK_KEPT seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._answers: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._silent_until: dict[str, float] = {}

    def get(self, owner: str, request_type: str,
            ask: Callable[[str], Any]) -> dict[str, Any]:
        now = self.clock()
        kept = self._answers.get((owner, request_type))
        if kept is not None and now < kept[0]:
            return kept[1]
        if now < self._silent_until.get(owner, 0.0):
            return dict(OBJECT)
        try:
            schema = ask(request_type)
            if not isinstance(schema, dict):
                raise TypeError(f"params_schema answered {type(schema).__name__}")
        except Exception as exc:
            log.info("params_schema_unanswered", owner=owner, request_type=request_type,
                     error=getattr(exc, "code", None) or type(exc).__name__)
            self._silent_until[owner] = now + FALLBACK_KEPT
            return dict(OBJECT)
        self._answers[(owner, request_type)] = (now + ANSWER_KEPT, schema)
        return schema


def request_types(kinds: dict[str, RequestType], hooks: HookSet,
                  owner_schemas: OwnerSchemas) -> list[dict[str, Any]]:
    """The catalogue, by type name."""
    entries = []
    for name in sorted(kinds):
        kind = kinds[name]
        answer = hooks.of(kind)
        if kind.owner is None:
            schema = answer.params_schema(name)
        else:
            schema = owner_schemas.get(kind.owner, name, answer.params_schema)
        entries.append({"name": name, "initial_status": kind.start,
                        "completed_by": "system" if kind.automatic else "agent",
                        "needs_document": kind.needs_attachment,
                        "params_schema": schema})
    return entries
