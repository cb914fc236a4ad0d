"""A request type owned by another service plugs into the registry through the RPC
hooks (docs/requests.md), and documents' catalogue lists it with its parameters. The
owners here are real nameko services of the test's: `reqowner` answers the optional
`params_schema` hook, `reqplain` does not."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest
from nameko.containers import ServiceContainer

from services.kit.config import BaseSettings, load_settings
from services.kit.rpc import rpc
from services.kit.runner import nameko_config
from services.kit.storage import StorageProvider, StorageSettings
from tests.support import assert_problem, new_member


class OwnerSettings(BaseSettings, StorageSettings):
    pass


class RequestOwner:
    name = "reqowner"
    settings_schema = OwnerSettings
    storage = StorageProvider("documents")

    @rpc
    def validate_params(self, member_id, params, request_type=None):
        if request_type == "hooked_application" and "age" in params and \
                not isinstance(params["age"], int):
            return [{"field": "params.age", "code": "invalid", "detail": "A number."}]
        return []

    @rpc
    def check_submission(self, member_id, params, attachments, request_type=None):
        return [] if params.get("age", 0) >= 60 else ["an age of at least 60"]

    @rpc
    def produce_result(self, request):
        data = f"statement for {request['id']}".encode()
        key = f"results/{request['id']}"
        self.storage.put("documents", key, data, "application/pdf")
        return {"storage_key": key, "content_type": "application/pdf",
                "sha256": hashlib.sha256(data).hexdigest(), "verification_code": None}

    @rpc
    def params_schema(self, request_type=None):
        if request_type == "hooked_application":
            return APPLICATION_SCHEMA
        return {"type": "object", "additionalProperties": False}


APPLICATION_SCHEMA = {"type": "object", "properties": {"age": {"type": "integer"}},
                      "additionalProperties": False}


class PlainOwner:
    """An owner with the three hooks and no `params_schema`."""

    name = "reqplain"

    @rpc
    def validate_params(self, member_id, params, request_type=None):
        return []

    @rpc
    def check_submission(self, member_id, params, attachments, request_type=None):
        return []

    @rpc
    def produce_result(self, request):
        raise NotImplementedError


def start(service_cls, test_env):
    container = ServiceContainer(service_cls,
                                 nameko_config(load_settings(OwnerSettings, test_env)))
    container.start()
    return container


@pytest.fixture(scope="module")
def owner(suite, test_env):
    container = start(RequestOwner, test_env)
    yield container
    container.stop()


@pytest.fixture(scope="module")
def plain_owner(suite, test_env):
    container = start(PlainOwner, test_env)
    yield container
    container.stop()


@pytest.fixture
def token(api, rpc):
    member = new_member(rpc, email=f"h{uuid.uuid4().hex[:8]}@example.mc",
                        email_validated=True)
    token = api.login(member["identifier"], member["password"])["access_token"]
    deadline = time.monotonic() + 10  # documents hears of new members through events
    while api.post("/api/v1/requests", token, json={"type": "affiliation_certificate"}
                   ).status_code == 404:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return token


def test_hooks_validate_check_and_produce(api, owner, token):
    bad = api.post("/api/v1/requests", token,
                   json={"type": "hooked_application", "params": {"age": "old"}})
    body = assert_problem(bad, 422, "validation_failed")
    assert body["errors"][0]["field"] == "params.age"

    draft = api.post("/api/v1/requests", token,
                     json={"type": "hooked_application", "params": {"age": 58}}).json()
    assert draft["status"] == "draft"
    missing = api.post(f"/api/v1/requests/{draft['id']}/submit", token)
    body = assert_problem(missing, 422, "validation_failed")
    assert "60" in body["errors"][0]["detail"]
    api.request("PATCH", f"/api/v1/requests/{draft['id']}", token, json={"params": {"age": 61}})
    assert api.post(f"/api/v1/requests/{draft['id']}/submit", token).json()["status"] == \
        "submitted"

    auto = api.post("/api/v1/requests", token,
                    json={"type": "hooked_statement", "params": {}}).json()
    deadline = time.monotonic() + 20
    while api.get(f"/api/v1/requests/{auto['id']}", token).json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    document = api.get(f"/api/v1/requests/{auto['id']}/document", token)
    assert document.content == f"statement for {auto['id']}".encode()


def test_the_catalogue_lists_every_type_with_its_params_schema(rpc, owner, plain_owner):
    # documents keeps an owner's silence a few seconds (say, asked before it started)
    deadline = time.monotonic() + 30
    while True:
        catalogue = {t["name"]: t for t in rpc.documents.request_types()}
        if catalogue["hooked_application"]["params_schema"] == APPLICATION_SCHEMA:
            break
        assert time.monotonic() < deadline, catalogue["hooked_application"]
        time.sleep(0.5)
    assert {"certificate_of_rights", "payment_certificate", "annual_tax_statement",
            "affiliation_certificate", "data_correction", "data_access", "hooked_statement",
            "hooked_application", "plain_request", "career_statement",
            "retirement_pension"} <= set(catalogue)
    # the registry's own types, their marshmallow schemas as JSON Schema
    assert catalogue["annual_tax_statement"] == {
        "name": "annual_tax_statement", "initial_status": "submitted",
        "completed_by": "system", "needs_document": False,
        "params_schema": {"type": "object", "additionalProperties": False,
                          "properties": {"year": {"type": "integer", "minimum": 2000,
                                                  "maximum": 2100}},
                          "required": ["year"]}}
    assert catalogue["data_correction"]["completed_by"] == "agent"
    assert catalogue["data_correction"]["params_schema"]["properties"]["field"]["enum"][0] \
        == "first_name"
    # an owner's types: its params_schema hook, or an object when it has none
    assert catalogue["hooked_application"]["initial_status"] == "draft"
    assert catalogue["hooked_application"]["completed_by"] == "agent"
    assert catalogue["hooked_statement"]["completed_by"] == "system"
    assert catalogue["hooked_statement"]["params_schema"] == {
        "type": "object", "additionalProperties": False}
    assert catalogue["plain_request"] == {
        "name": "plain_request", "initial_status": "submitted", "completed_by": "agent",
        "needs_document": False, "params_schema": {"type": "object"}}
