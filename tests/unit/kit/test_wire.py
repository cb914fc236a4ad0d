"""services.kit.wire reads and writes what kombu's own JSON serializer does."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from kombu.serialization import dumps as kombu_registry_dumps
from kombu.serialization import loads as kombu_registry_loads
from kombu.utils import json as kombu_json

from services.kit import wire

VALUES = [
    {"items": [{"id": "R-1", "amount": "23.40", "act": "Médicaments €", "n": None}],
     "count": 30, "ratio": 0.5, "ok": True},
    {"at": dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC), "on": dt.date(2026, 11, 27),
     "time": dt.time(8, 30), "amount": Decimal("23.40"), "raw": b"\x00\xffbinary",
     "text": b"plain bytes"},
    [1, -2, 2**63 - 1, "", [], {}],
    {"big": 2**70},  # beyond orjson's integers: kombu's functions take it
    {1: "integer key"},  # orjson refuses: written as kombu writes it
    "\ud800 lone surrogate",
    "just a string",
]


@pytest.mark.parametrize("value", VALUES)
def test_what_wire_writes_kombu_reads_back_the_same(value):
    assert kombu_json.loads(wire.dumps(value)) == kombu_json.loads(kombu_json.dumps(value))


@pytest.mark.parametrize("value", VALUES)
def test_what_kombu_writes_wire_reads_back_the_same(value):
    written = kombu_json.dumps(value).encode()
    assert wire.loads(written) == kombu_json.loads(written)
    assert wire.loads(memoryview(written)) == kombu_json.loads(written)


def test_typed_values_keep_their_type_across():
    value = {"at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "amount": Decimal("1.10")}
    back = wire.loads(wire.dumps(value))
    assert back == value
    assert isinstance(back["amount"], Decimal) and isinstance(back["at"], dt.datetime)


def test_non_json_numbers_are_read_as_kombu_reads_them():
    assert wire.loads(b'{"x": NaN}')["x"] != wire.loads(b'{"x": NaN}')["x"]  # a NaN
    with pytest.raises(ValueError):
        wire.loads(b'{"x": ')


def test_what_cannot_be_written_is_refused_like_kombu():
    with pytest.raises(TypeError):
        wire.dumps({"x": object()})
    with pytest.raises(TypeError):
        kombu_json.dumps({"x": object()})


def test_install_makes_it_kombus_json_serializer():
    wire.install()
    content_type, encoding, body = kombu_registry_dumps({"a": "é"}, serializer="json")
    assert (content_type, encoding) == ("application/json", "utf-8")
    assert json.loads(body) == {"a": "é"}
    assert kombu_registry_loads(body, content_type, encoding) == {"a": "é"}
