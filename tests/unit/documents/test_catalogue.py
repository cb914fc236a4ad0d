"""The request-type catalogue: each own type's marshmallow params as JSON Schema
2020-12 that accepts and refuses what the registry does, and owners' answers kept a
while, `{"type": "object"}` for an owner that gives none."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from marshmallow import ValidationError

from services.documents.requests import catalogue
from services.documents.requests.catalogue import OBJECT, OwnerSchemas, params_json_schema
from services.documents.requests.hooks import HookSet
from services.documents.requests.types import TYPES, external_types
from services.kit.errors import ServiceUnavailable

SAMPLES: dict[str, tuple[list[Any], list[Any]]] = {  # (accepted, refused)
    "certificate_of_rights": ([{}], [{"x": 1}, []]),
    "affiliation_certificate": ([{}], [{"year": 2020}]),
    "data_access": ([{}], [{"all": True}]),
    "annual_tax_statement": ([{"year": 2000}, {"year": 2100}],
                             [{}, {"year": 1999}, {"year": 2101},
                              {"year": 2020, "month": 1}]),
    "payment_certificate": ([{"from": "2025-01-01", "to": "2025-12-31"}],
                            [{"from": "2025-01-01"}, {"from": 1, "to": "2025-12-31"},
                             {"from": "2025-01-01", "to": "2025-12-31", "x": 1}]),
    "data_correction": ([{"field": "address", "new_value": "1 rue", "reason": "moved"}],
                        [{"field": "address", "new_value": "", "reason": "moved"},
                         {"field": "shoe_size", "new_value": "42", "reason": "x"},
                         {"field": "address", "new_value": "x" * 501, "reason": "x"},
                         {"field": "address", "new_value": "1 rue"}]),
}


def test_every_own_type_has_samples() -> None:
    assert set(SAMPLES) == set(TYPES)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_the_json_schema_is_valid_2020_12_and_agrees_with_marshmallow(name: str) -> None:
    schema = params_json_schema(TYPES[name].params)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    accepted, refused = SAMPLES[name]
    for params in accepted:
        TYPES[name].params().load(params)
        assert validator.is_valid(params), (name, params)
    for params in refused:
        with pytest.raises(ValidationError):
            TYPES[name].params().load(params)
        assert not validator.is_valid(params), (name, params)


def test_the_schema_names_fields_as_sent_and_refuses_unknown_ones() -> None:
    period = params_json_schema(TYPES["payment_certificate"].params)
    assert period["type"] == "object" and period["additionalProperties"] is False
    assert set(period["properties"]) == {"from", "to"}  # data_key, not date_from
    assert sorted(period["required"]) == ["from", "to"]
    assert period["properties"]["from"] == {"type": "string", "format": "date"}
    year = params_json_schema(TYPES["annual_tax_statement"].params)["properties"]["year"]
    assert year == {"type": "integer", "minimum": 2000, "maximum": 2100}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Owner:
    """Stands for an owner's answers: a schema, or a failure."""

    def __init__(self, answer: Any) -> None:
        self.answer, self.asked = answer, 0

    def __call__(self, request_type: str) -> Any:
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_an_owners_answer_is_kept_then_asked_again() -> None:
    clock = Clock()
    cache = OwnerSchemas(clock)
    owner = Owner({"type": "object", "properties": {"age": {"type": "integer"}}})
    assert cache.get("pension", "retirement_pension", owner) == owner.answer
    clock.now += catalogue.ANSWER_KEPT - 1
    assert cache.get("pension", "retirement_pension", owner) == owner.answer
    assert owner.asked == 1
    clock.now += 2
    cache.get("pension", "retirement_pension", owner)
    assert owner.asked == 2


@pytest.mark.parametrize("answer", [ServiceUnavailable("down"), RuntimeError("no method"),
                                    ["not", "an", "object"], "text"])
def test_an_owner_giving_no_schema_gives_an_object_and_is_left_alone_a_while(answer):
    clock = Clock()
    cache = OwnerSchemas(clock)
    owner = Owner(answer)
    assert cache.get("reqowner", "a", owner) == OBJECT
    assert cache.get("reqowner", "b", owner) == OBJECT  # the owner's other types too
    assert owner.asked == 1
    clock.now += catalogue.FALLBACK_KEPT
    owner.answer = {"type": "object", "required": ["age"]}
    assert cache.get("reqowner", "a", owner) == owner.answer
    assert cache.get("other", "c", Owner({"type": "string"})) == {"type": "string"}


def test_the_catalogue_lists_own_and_configured_types() -> None:
    kinds = {**TYPES, **external_types("hooked=reqowner:draft,auto_one=reqowner:submitted:auto")}

    class Remote:
        def params_schema(self, request_type: str, _timeout: float) -> dict[str, Any]:
            return {"type": "object", "title": request_type}

    entries = catalogue.request_types(kinds, HookSet(owner_rpc=lambda _s: Remote()),
                                      OwnerSchemas())
    by_name = {e["name"]: e for e in entries}
    assert [e["name"] for e in entries] == sorted(kinds)
    assert set(entries[0]) == {"name", "initial_status", "completed_by", "needs_document",
                               "params_schema"}
    assert by_name["data_correction"]["completed_by"] == "agent"
    assert by_name["certificate_of_rights"] | {"params_schema": None} == {
        "name": "certificate_of_rights", "initial_status": "submitted",
        "completed_by": "system", "needs_document": False, "params_schema": None}
    assert by_name["hooked"]["initial_status"] == "draft"
    assert by_name["hooked"]["params_schema"] == {"type": "object", "title": "hooked"}
    assert by_name["auto_one"]["completed_by"] == "system"
