"""`POST /api/v1/requests` in the OpenAPI document: one of the catalogue's request types,
discriminated by `type`, each with its parameters; the catalogue as documents answers it,
the registry's built-in types while it does not."""

from __future__ import annotations

import copy

import pytest

import gateway.routes  # noqa: F401  (registers the routes)
from gateway.catalogue import REFRESH_SECONDS, RETRY_SECONDS, RequestCatalogue, built_in_entries
from gateway.openapi import openapi_document
from services.contracts.requests import BUILT_IN_REQUEST_TYPES
from services.kit.errors import ServiceUnavailable

# the shape documents.request_types() answers (a type owned by pension among them)
ANSWER = [
    *built_in_entries(),
    {"name": "career_statement", "initial_status": "submitted", "completed_by": "system",
     "needs_document": False,
     "params_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                       "type": "object", "properties": {}, "additionalProperties": False}},
    {"name": "retirement_pension", "initial_status": "draft", "completed_by": "agent",
     "needs_document": True,
     "params_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                       "$id": "https://example.mc/retirement_pension.json",
                       "type": "object", "required": ["start_date", "children"],
                       "properties": {"start_date": {"type": "string", "format": "date"},
                                      "children": {"type": "array",
                                                   "items": {"$ref": "#/$defs/child"}}},
                       "$defs": {"child": {"type": "object",
                                           "properties": {"birth_date": {"type": "string"}}}}}},
]


def _body_of(document: dict) -> dict:
    ref = document["paths"]["/api/v1/requests"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _resolve(document: dict, ref: str) -> dict:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_without_documents_the_document_lists_the_registrys_own_types():
    document = openapi_document()
    body = _body_of(document)
    mapping = body["discriminator"]["mapping"]
    assert body["discriminator"]["propertyName"] == "type"
    assert set(mapping) == {t.name for t in BUILT_IN_REQUEST_TYPES}
    assert [b["$ref"] for b in body["oneOf"]] == list(mapping.values())
    payment = _resolve(document, mapping["payment_certificate"])
    assert payment["properties"]["type"] == {"type": "string", "const": "payment_certificate"}
    params = _resolve(document, payment["properties"]["params"]["$ref"])
    assert set(params["properties"]) == {"from", "to"} and set(params["required"]) == {"from",
                                                                                       "to"}
    correction = _resolve(document, _resolve(document, mapping["data_correction"])[
        "properties"]["params"]["$ref"])
    assert correction["properties"]["field"]["enum"][0] == "first_name"


def test_the_catalogue_from_documents_lists_every_type_with_its_parameters():
    document = openapi_document(ANSWER)
    mapping = _body_of(document)["discriminator"]["mapping"]
    assert {"career_statement", "retirement_pension"} <= set(mapping)
    assert set(mapping) == {e["name"] for e in ANSWER}
    pension = _resolve(document, mapping["retirement_pension"])
    assert "starts `draft`" in pension["description"]
    assert "supporting document" in pension["description"]
    params = _resolve(document, pension["properties"]["params"]["$ref"])
    assert params["required"] == ["start_date", "children"] and "$id" not in params
    child = params["properties"]["children"]["items"]["$ref"]
    assert child == "#/components/schemas/RetirementPensionParams/$defs/child"
    assert _resolve(document, child)["properties"] == {"birth_date": {"type": "string"}}
    # and the rest of the document is untouched
    assert "/api/v1/me" in document["paths"]
    assert openapi_document(ANSWER) is document  # built once per catalogue
    assert "career_statement" not in _body_of(openapi_document())["discriminator"]["mapping"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_documents_is_asked_at_most_once_a_minute_and_its_silence_keeps_what_was_known():
    clock, asked = Clock(), []
    catalogue = RequestCatalogue(clock)

    def answer():
        asked.append(clock.now)
        return copy.deepcopy(ANSWER)

    def silence():
        asked.append(clock.now)
        raise ServiceUnavailable("The documents service is not available.")

    assert [e["name"] for e in catalogue.entries()] == [t.name for t in BUILT_IN_REQUEST_TYPES]
    catalogue.refresh_if_due(silence)                      # documents not up yet
    assert catalogue.answered is None and len(catalogue.entries()) == 6
    clock.now += RETRY_SECONDS - 1
    catalogue.refresh_if_due(answer)
    assert len(asked) == 1                                 # a failed ask waits a little
    clock.now += 1
    catalogue.refresh_if_due(answer)
    assert len(asked) == 2 and len(catalogue.entries()) == len(ANSWER)
    version = catalogue.version
    clock.now += REFRESH_SECONDS - 1
    catalogue.refresh_if_due(answer)
    assert len(asked) == 2                                 # at most once a minute
    clock.now += 1
    catalogue.refresh_if_due(silence)
    assert len(asked) == 3 and len(catalogue.entries()) == len(ANSWER)  # kept
    clock.now += RETRY_SECONDS
    catalogue.refresh_if_due(answer)
    assert catalogue.version == version                    # the same answer: same document


@pytest.mark.parametrize("bad", [
    None, {"name": "x"}, [{"name": "career_statement"}],
    [{**ANSWER[-1], "initial_status": "completed"}],
])
def test_a_malformed_catalogue_is_not_published(bad):
    catalogue = RequestCatalogue(Clock())
    assert catalogue.refresh(lambda: bad) is False
    assert catalogue.entries() == built_in_entries()
