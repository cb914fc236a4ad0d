"""JSON on the wire (RPC and events): kombu's format, with orjson doing the work.

kombu's `json` serializer is the standard library's `json` with an object hook called
for every decoded dictionary; on a page of refunds it was a tenth of the CPU of the
round trip on each side. `install()` registers, under the same name and content type
(`application/json`, UTF-8), functions that read and write the same messages:

- decoding: orjson, unless the text holds kombu's type envelopes
  (`{"__type__": ..., "__value__": ...}`) or anything orjson refuses (NaN, integers
  beyond 64 bits, lone surrogates), which go to kombu's own `loads` unchanged;
- encoding: orjson; `datetime`, `date`, `time`, `Decimal` and `bytes` in kombu's
  envelopes, as kombu writes them; anything orjson cannot write (integer keys, sets, ...)
  by kombu's own `dumps`. The text is UTF-8 rather than ASCII with escapes (the same
  JSON). One difference: a `uuid.UUID` travels as its plain string (kombu would wrap
  it); the suite's contracts carry identifiers as strings anyway.

Every process of the suite installs it at start (`services.kit.runner`); a peer with
plain kombu reads and writes the same messages.
"""

from __future__ import annotations

from typing import Any

import orjson
from kombu.serialization import registry
from kombu.utils import json as kombu_json

_MARKER = b'"__type__"'
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _default(value: Any) -> Any:
    # kombu's encoder `default`: its envelopes for datetime, Decimal, bytes ...; raises
    # TypeError for what it cannot write, as the standard library's does
    return kombu_json.JSONEncoder().default(value)


def dumps(value: Any) -> bytes | str:
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return kombu_json.dumps(value)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if _MARKER not in raw:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return kombu_json.loads(raw)


def install() -> None:
    """Replace kombu's `json` serializer in this process (idempotent)."""
    registry.register("json", dumps, loads, content_type="application/json",
                      content_encoding="utf-8")
